"""Entry point of the DMP plugin: hooks, outbox handlers, migrations, demo steps, the counter's screens and the
section of the patient's file.

Every command line (``lgo --help`` too) imports this module to read the manifest: the plugin's own modules, and
with them the XML, HTTP and database libraries, are imported inside the hooks that use them.
"""

from __future__ import annotations

from typing import Any

from lgo.api import PROJECT_PUBLISHER, HabilitationDefinition, LazyHooks, Manifest, hookimpl

from lgo_dmp.settings import DmpSettings

MANIFEST = Manifest(
    name="dmp",
    plugin_api=">=2.9,<3",
    distribution="lgo-dmp",
    label_fr="DMP",
    description_fr="Alimentation automatique et consultation du Dossier médical partagé (XDS.b, VIHF).",
    optional=("ins",),
    capabilities=("dmp",),
    settings=DmpSettings,
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    patient_file="lgo_dmp.file",
    cli="lgo_dmp.cli:dmp",
    web="lgo_dmp.web:blueprint",
    portable_tables="lgo_dmp.portability:portable_tables",
    indicators="lgo_dmp.indicators:sources",
    migrations="migrations",
    outbox_status="DMP",
    hooks={
        "lgo_on_document_validated": "lgo_dmp.service:on_document_validated",
        "lgo_on_identity_qualified": "lgo_dmp.service:on_identity_qualified",
        "lgo_on_document_deprecated": "lgo_dmp.service:on_document_deprecated",
    },
)


@hookimpl
def lgo_register_habilitations() -> list[HabilitationDefinition]:
    from lgo_dmp import service

    return [
        HabilitationDefinition(
            service.HABILITATION_CONSULT,
            "Consulter le DMP",
            "Lire la liste et le contenu des documents du DMP d'un patient (chaque accès est tracé).",
            default_roles=("titulaire", "pharmacien_adjoint"),
        ),
        HabilitationDefinition(
            service.HABILITATION_FEED,
            "Alimenter le DMP",
            "Envoyer au DMP les documents validés de l'officine.",
            default_roles=("titulaire", "pharmacien_adjoint", "preparateur"),
        ),
    ]


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    from lgo_dmp import service

    return {service.KIND_SEND: service.deliver, service.KIND_DEPRECATE: service.deliver_deprecation}
