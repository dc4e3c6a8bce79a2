"""Entry point of the ``vaccination`` plugin.

Every command line (``lgo --help`` too) imports this module to read the manifest: the plugin's own modules, and
with them the XML, HTTP and database libraries, are imported inside the hooks that use them.
"""

from __future__ import annotations

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest

MANIFEST = Manifest(
    name="vaccination",
    plugin_api=">=2.9,<3",
    distribution="lgo-vaccination",
    label_fr="Vaccination",
    description_fr="Note de vaccination (CI-SIS VAC-NOTE 2023.01) préparée à la facturation d'un acte VGP, INJ ou "
    "RVA, validée par le pharmacien puis transmise au DMP.",
    requires=("ins",),
    optional=("dmp",),
    capabilities=("vaccination",),
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    counter="lgo_vaccination.window",
    patient_file="lgo_vaccination.file",
    web="lgo_vaccination.file:blueprint",
    portable_tables="lgo_vaccination.portability:portable_tables",
    indicators="lgo_vaccination.indicators:sources",
    migrations="migrations",
    acts="lgo_vaccination.codes:ACTS",
    hooks={
        "lgo_on_billing_commit": "lgo_vaccination.service:write_notes",
        "lgo_on_billing_end": "lgo_vaccination.service:actions_after_billing",
        "lgo_on_identity_qualified": "lgo_vaccination.service:on_identity_qualified",
    },
)
