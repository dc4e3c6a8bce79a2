"""Entry point of the ``ins`` plugin.

Every command line (``lgo --help`` too) imports this module to read the manifest: the plugin's own modules, and
with them the XML, HTTP and database libraries, are imported inside the hooks that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, hookimpl

from lgo_ins.settings import InsSettings

if TYPE_CHECKING:
    from lgo.api import (
        ActionRequired,
        CertificateUsage,
        Kernel,
        PatientTraitsChanged,
    )

MANIFEST = Manifest(
    name="ins",
    plugin_api=">=2.9,<3",
    distribution="lgo-ins",
    label_fr="INS",
    description_fr="Identité nationale de santé : matricule INS, statuts du RNIV, seule une identité qualifiée est "
    "partagée.",
    capabilities=("ins",),
    settings=InsSettings,
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    counter="lgo_ins.window",
    patient_file="lgo_ins.file",
    portable_tables="lgo_ins.portability:portable_tables",
    migrations="migrations",
    hooks={
        "lgo_shareable_identity": "lgo_ins.api:shareable",
        "lgo_on_patient_selected": "lgo_ins.counter:on_patient_selected",
    },
)


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    from lgo_ins.counter import KIND_RETRY, retry

    return {KIND_RETRY: retry}


@hookimpl
def lgo_identity_qualification(
    kernel: Kernel, pharmacy_id: int, patient_id: int, waiting_fr: str
) -> list[ActionRequired]:
    from dataclasses import replace

    from lgo_ins import api

    return [
        replace(action, message_fr=f"{action.message_fr} {waiting_fr}")
        for action in api.qualification_actions(kernel, pharmacy_id, patient_id)
    ]


@hookimpl
def lgo_on_patient_traits_changed(kernel: Kernel, event: PatientTraitsChanged) -> None:
    from lgo_ins import api

    if event.strict_traits:
        api.demote(kernel, event.pharmacy_id, event.patient_id, event.strict_traits)


@hookimpl
def lgo_register_certificate_usages() -> list[CertificateUsage]:
    from lgo.api import CertificateUsage

    from lgo_ins.counter import CERTIFICATE_KIND

    return [
        CertificateUsage(
            CERTIFICATE_KIND,
            "INSi (certificat INSI-AUTO distinct)",
            "Seulement si l'officine a reçu pour l'INSi un certificat différent de son certificat d'organisation.",
        )
    ]
