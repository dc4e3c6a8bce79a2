"""Our own plugins pass the contract kit a vendor's plugin must pass (``lgo.testing.contracts``)."""

from __future__ import annotations

import lgo_cards.plugin
import lgo_dmp.plugin
import lgo_entretiens.plugin
import lgo_eordonnance.plugin
import lgo_ins.plugin
import lgo_vaccination.plugin
from lgo.testing.contracts import PluginContract


class TestInsContract(PluginContract):
    plugin = lgo_ins.plugin


class TestDmpContract(PluginContract):
    plugin = lgo_dmp.plugin
    companions = (lgo_ins.plugin,)


class TestVaccinationContract(PluginContract):
    plugin = lgo_vaccination.plugin
    companions = (lgo_ins.plugin, lgo_dmp.plugin)


class TestEntretiensContract(PluginContract):
    plugin = lgo_entretiens.plugin
    companions = (lgo_ins.plugin,)


class TestEOrdonnanceContract(PluginContract):
    plugin = lgo_eordonnance.plugin


class TestCardsContract(PluginContract):
    plugin = lgo_cards.plugin
