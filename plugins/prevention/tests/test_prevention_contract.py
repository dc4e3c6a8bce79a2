"""The prevention plugin passes the kernel's contract kit (its counter windows and keys included)."""

from __future__ import annotations

import lgo_prevention.plugin
from lgo.testing.contracts import PluginContract
from lgo_prevention.model import PreventionBase


class TestPreventionPluginContract(PluginContract):
    plugin = lgo_prevention.plugin
    models = PreventionBase.metadata
