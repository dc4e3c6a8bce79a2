from __future__ import annotations

from mss_helpers import mss_authority, mss_org_world, mss_sandbox, mss_world

__all__ = ["mss_authority", "mss_org_world", "mss_sandbox", "mss_world"]
