"""The demo step signs the fictional titulaire in through its own local PSC provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lgo_psc.plugin
from lgo.demo import DemoContext
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from lgo_sandbox.demo import psc as psc_demo


def test_demo_step(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, psc_sandbox: Any) -> None:
    kernel = lgo_make_kernel(lgo_psc.plugin)
    (step,) = psc_demo.steps()
    lines = step.run(DemoContext(kernel, lgo_seeded))
    text = "\n".join(lines)
    assert "Durand-Démo" in text and "session ouverte" in text and "renouvelé" in text and "Déconnexion" in text, text
    assert "poste de comptoir" in text
