"""Entry point of the ``cards`` plugin."""

from __future__ import annotations

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest

from lgo_cards.settings import CardsSettings

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
    hooks={"lgo_operator_signer": "lgo_cards.operator_card:signer_for"},
)
