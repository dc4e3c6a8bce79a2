"""Entry point of the ``cards`` plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, hookimpl

from lgo_cards.settings import CardsSettings

if TYPE_CHECKING:
    from lgo.api import (
        Kernel,
        OperatorSigner,
    )

MANIFEST = Manifest(
    name="cards",
    plugin_api=">=2.9,<3",
    distribution="lgo-cards",
    label_fr="Cartes (CPS, Vitale)",
    description_fr="Carte du professionnel de santé (signature de l'assertion INSi et du VIHF), lecture de la carte "
    "Vitale et appli carte Vitale.",
    optional=("ins",),
    capabilities=("cps", "vitale"),
    settings=CardsSettings,
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    counter="lgo_cards.window",
)


@hookimpl
def lgo_operator_signer(kernel: Kernel, pharmacy_id: int, operator_id: int) -> OperatorSigner | None:
    from lgo_cards.operator_card import signer_for

    return signer_for(pharmacy_id, operator_id)
