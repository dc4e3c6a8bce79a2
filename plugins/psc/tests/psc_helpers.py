"""Shared pieces of the psc tests: fictional PSC accounts matching the seeded pharmacy's team."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lgo_psc.plugin
from lgo.demo_data import FINESS, Seeded
from lgo.domain.pharmacy import Operator
from lgo.kernel import Kernel
from lgo_sandbox.psc import pharmacist_claims

#: RPPS of the seeded (fictional) titulaire and adjoint, see lgo.demo_data.
TITULAIRE_RPPS = "99999000013"
TITULAIRE_SUB = "f:00000000-test-0000-0000-000000000000:899999000013"
IMPOSTOR_SUB = "f:11111111-test-1111-1111-111111111111:899999000013"
UNKNOWN_SUB = "f:22222222-test-2222-2222-222222222222:810000000003"
REDIRECT_URI = "http://localhost/plugins/psc/retour"


def sandbox_accounts() -> tuple[dict[str, dict[str, Any]], str]:
    claire = pharmacist_claims(
        TITULAIRE_RPPS,
        given_name="Claire",
        family_name="DURAND-DEMO",
        finess=FINESS,
        pharmacy_name="PHARMACIE DES TILLEULS (DEMO)",
    )
    accounts = {
        TITULAIRE_SUB: claire,
        # Same RPPS, another PSC account: must be refused once the first one is bound.
        IMPOSTOR_SUB: {**claire, "given_name": "Claire-Autre"},
        UNKNOWN_SUB: pharmacist_claims(
            "10000000003", given_name="Jean", family_name="INCONNU-TEST", finess="999999999"
        ),
    }
    return accounts, TITULAIRE_SUB


@dataclass
class PscWorld:
    kernel: Kernel
    seeded: Seeded
    sandbox: Any

    @property
    def pharmacy_id(self) -> int:
        return self.seeded.pharmacy_id

    @property
    def titulaire_id(self) -> int:
        return self.seeded.operators["titulaire"]

    def configure(self, **overrides: Any) -> None:
        values = {
            "base_url": self.sandbox.base_url,
            "client_id": "lgo-test",
            "client_secret": "secret-de-test",
            "redirect_uri": REDIRECT_URI,
            "leeway_seconds": 5,
            **overrides,
        }
        self.kernel.save_plugin_settings(self.pharmacy_id, "psc", values)


def build_world(make_kernel: Callable[..., Kernel], seeded: Seeded, sandbox: Any) -> PscWorld:
    kernel = make_kernel(lgo_psc.plugin)
    kernel.enable(seeded.pharmacy_id, "psc")
    with kernel.transaction() as db:
        titulaire = db.get(Operator, seeded.operators["titulaire"])
        assert titulaire is not None and titulaire.rpps == TITULAIRE_RPPS
    world = PscWorld(kernel, seeded, sandbox)
    world.configure()
    return world
