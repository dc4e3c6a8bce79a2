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


def test_every_plugin_of_the_project_loads_beside_all_the_others(tmp_path: object) -> None:
    """All the workspace's plugins installed together, as a pharmacy installs them: none is refused — a counter key,
    command, outbox kind, act code, habilitation or blueprint declared twice would refuse both (e.g. ``Alt+D``, the
    DP's, taken by the DMP's documents)."""
    from lgo.kernel import Kernel

    kernel = Kernel(f"sqlite:///{tmp_path}/tous.sqlite", discover_installed=True)
    kernel.upgrade_database()
    kernel.start()  # where collisions are refused
    refused = {i.name: i.reason for i in kernel.registry.all() if not i.loaded}
    assert not refused, refused
    assert {"dmp", "dp", "entretiens", "mssante", "prevention", "depistage"} <= {i.name for i in kernel.registry.all()}
    keys = [k.key for _plugin, k in kernel.hooks.counter_shortcuts()]
    assert len(keys) == len(set(keys)), keys
    kernel.close()
