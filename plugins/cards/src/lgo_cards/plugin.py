"""Entry point of the ``cards`` plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo import hookimpl
from lgo.plugins.manifest import Manifest

from lgo_cards.settings import CardsSettings

if TYPE_CHECKING:
    from lgo.demo import DemoStep
    from lgo.domain.certificates import OperatorSigner
    from lgo.kernel import Kernel

MANIFEST = Manifest(
    name="cards",
    plugin_api=">=1.2,<2",
    distribution="lgo-cards",
    label_fr="Cartes (CPS, Vitale)",
    description_fr="Carte du professionnel de santé (signature de l'assertion INSi et du VIHF), lecture de la carte "
    "Vitale et appli carte Vitale.",
    optional=("ins",),
    capabilities=("cps", "vitale"),
    settings=CardsSettings,
)


@hookimpl
def lgo_operator_signer(kernel: Kernel, pharmacy_id: int, operator_id: int) -> OperatorSigner | None:
    from lgo_cards.operator_card import signer_for

    return signer_for(pharmacy_id, operator_id)


@hookimpl
def lgo_demo_steps() -> list[DemoStep]:
    from lgo_cards.demo import steps

    return steps()
