"""Entry point of the ``prevention`` plugin."""

from __future__ import annotations

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest

MANIFEST = Manifest(
    name="prevention",
    plugin_api=">=2.9,<3",
    wave=2,
    publisher=PROJECT_PUBLISHER,
    distribution="lgo-prevention",
    label_fr="Mon bilan prévention",
    description_fr="Mon bilan prévention (18–25, 45–50, 60–65, 70–75 ans) : entretien par thèmes, plan personnalisé "
    "de prévention (CDA niveau 1, PDF) au DMP et au médecin traitant par MSSanté, acte RDP une fois par tranche "
    "d'âge et un autre acte le même jour.",
    optional=("ins", "dmp", "mssante", "vaccination"),
    capabilities=("prevention",),
)

LAZY_HOOKS = LazyHooks(
    counter="lgo_prevention.window",
    cli="lgo_prevention.cli:prevention",
    web="lgo_prevention.web:blueprint",
    portable_tables="lgo_prevention.portability:portable_tables",
    migrations="migrations",
    acts="lgo_prevention.bands:ACTS",
    hooks={"lgo_on_identity_qualified": "lgo_prevention.plan:on_identity_qualified"},
)
