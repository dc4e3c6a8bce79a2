"""The ``lgo demo`` steps of the wave-2 modules run on the demonstration pharmacy and tell what happened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lgo_depistage.plugin
import lgo_prevention.plugin
import pytest
from lgo.demo import DemoContext
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from lgo.testing.fakes import FakeIdentityPlugin
from lgo_sandbox.demo import depistage, prevention


def test_the_trod_and_the_bilan_steps(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LGO_HOME", str(tmp_path))
    identity = FakeIdentityPlugin("ins")
    kernel = lgo_make_kernel(lgo_depistage.plugin, lgo_prevention.plugin, identity)
    for name in ("ins", "depistage", "prevention"):
        kernel.enable(lgo_seeded.pharmacy_id, name)
    identity.qualify(kernel, lgo_seeded.pharmacy_id, lgo_seeded.patients["camille"])
    context = DemoContext(kernel, lgo_seeded)
    (trod,) = depistage.steps()
    lines = trod.run(context)
    assert "Amoxicilline délivrée sans ordonnance : 1 g matin et soir pendant 6 jours." in lines
    assert any(line.startswith("Facture n° 1 : total 17,32 €") for line in lines)
    assert (tmp_path / "demo-attestation-trod.pdf").read_bytes().startswith(b"%PDF")
    (bilan,) = prevention.steps()
    lines = bilan.run(context)
    assert any(line.startswith("Second bilan refusé : Un bilan prévention a déjà été réalisé le") for line in lines)
    assert (tmp_path / "demo-plan-prevention.pdf").read_bytes().startswith(b"%PDF")
