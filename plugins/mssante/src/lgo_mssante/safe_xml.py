"""The kernel's untrusted-XML parser under the names this plugin has always used (``parse``, ``HostileContent``)."""

from __future__ import annotations

from lgo.api import HostileContent
from lgo.api import parse_untrusted as parse

__all__ = ["HostileContent", "parse"]
