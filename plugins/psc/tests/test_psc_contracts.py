"""The psc plugin passes the kernel's contract kit."""

from __future__ import annotations

import lgo_psc.plugin
from lgo.testing.contracts import PluginContract


class TestPscPluginContract(PluginContract):
    plugin = lgo_psc.plugin
