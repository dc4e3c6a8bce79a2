"""The ``lgo demo`` step of the DP on the demonstration pharmacy: the recall blocks every counter
(``lgo_counter_blocking``) until the préparatrice acknowledges it."""

from __future__ import annotations

from collections.abc import Callable

import lgo_dp.plugin
from lgo.demo import DemoContext
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from lgo.testing.fakes import FakeIdentityPlugin
from lgo_sandbox.demo import dp


def test_the_demo_step_blocks_every_counter_until_the_recall_is_read(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    identity = FakeIdentityPlugin("ins")
    kernel = lgo_make_kernel(lgo_dp.plugin, identity)
    for name in ("ins", "dp"):
        kernel.enable(lgo_seeded.pharmacy_id, name)
    identity.qualify(kernel, lgo_seeded.pharmacy_id, lgo_seeded.patients["camille"])
    (step,) = dp.steps()
    lines = step.run(DemoContext(kernel, lgo_seeded))
    assert any(line.startswith("Tous les comptoirs de l'officine sont bloqués : Rappel de lots") for line in lines)
    assert any(line.endswith("tous les comptoirs sont débloqués.") for line in lines), lines
