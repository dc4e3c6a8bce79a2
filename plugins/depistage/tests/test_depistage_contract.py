"""The depistage plugin passes the kernel's contract kit."""

from __future__ import annotations

import lgo_depistage.plugin
from lgo.testing.contracts import PluginContract
from lgo_depistage.model import DepistageBase


class TestDepistagePluginContract(PluginContract):
    plugin = lgo_depistage.plugin
    models = DepistageBase.metadata
