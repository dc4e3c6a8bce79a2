"""Entry point of the ``cards`` plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo import hookimpl
from lgo.plugins.manifest import Manifest

from lgo_cards.settings import CardsSettings

if TYPE_CHECKING:
    from lgo.demo import DemoStep

MANIFEST = Manifest(
    name="cards", plugin_api=">=1.1,<2", distribution="lgo-cards", label_fr="Cartes (CPS, Vitale)",
    description_fr="Carte du professionnel de santé (signature de l'assertion INSi et du VIHF), lecture de la carte "
                   "Vitale et appli carte Vitale.",
    optional=("ins",), capabilities=("cps", "vitale"), settings=CardsSettings,
)


@hookimpl
def lgo_demo_steps() -> list[DemoStep]:
    from lgo_cards.demo import steps

    return steps()
