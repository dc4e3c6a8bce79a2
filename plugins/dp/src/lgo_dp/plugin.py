"""Entry point of the ``dp`` plugin: manifest, hooks, outbox handlers, periodic job, habilitations, commands, the
counter's window and the section of the patient's file.

Kept light: the modules doing the work are imported inside the hooks, so that ``lgo --help`` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, HabilitationDefinition, LazyHooks, Manifest, deferred, hookimpl

from lgo_dp.settings import DpSettings

if TYPE_CHECKING:
    from lgo.api import PeriodicJob

MANIFEST = Manifest(
    name="dp",
    plugin_api=">=2.9,<3",
    wave=1,
    distribution="lgo-dp",
    publisher=PROJECT_PUBLISHER,
    label_fr="Dossier Pharmaceutique",
    description_fr="Historique de dispensation à 12 mois de toutes les pharmacies, alimentation à chaque "
    "délivrance, consentement du patient, rappels de lots et alertes sanitaires bloquants.",
    optional=("ins",),
    capabilities=("dp",),
    provider_capabilities=("dp",),
    settings=DpSettings,
)

LAZY_HOOKS = LazyHooks(
    counter="lgo_dp.window",
    patient_file="lgo_dp.file",
    cli="lgo_dp.cli:dp",
    web="lgo_dp.web:blueprint",
    portable_tables="lgo_dp.portability:portable_tables",
    migrations="migrations",
    hooks={
        # Recalls and alerts not yet acknowledged block every counter page of the pharmacy (decision 1104).
        "lgo_counter_blocking": "lgo_dp.bulletins:actions",
        "lgo_on_billing_commit": "lgo_dp.feeding:on_billing_commit",
        "lgo_on_correction_commit": "lgo_dp.feeding:on_correction_commit",
        "lgo_on_identity_qualified": "lgo_dp.feeding:on_identity_qualified",
        "lgo_on_patient_selected": "lgo_dp.consent:on_patient_selected",
    },
)

_ROLES = ("titulaire", "pharmacien_adjoint", "preparateur")


@hookimpl
def lgo_register_habilitations() -> list[HabilitationDefinition]:
    from lgo_dp import access

    return [
        HabilitationDefinition(
            access.HABILITATION_CONSULT,
            "Consulter le Dossier Pharmaceutique",
            "Voir les délivrances des 12 derniers mois de toutes les pharmacies (chaque accès est tracé).",
            default_roles=_ROLES,
        ),
        HabilitationDefinition(
            access.HABILITATION_CONSENT,
            "Gérer le DP du patient",
            "Créer le DP avec l'accord du patient, enregistrer son refus, le fermer ou masquer des lignes à sa "
            "demande.",
            default_roles=_ROLES,
        ),
        HabilitationDefinition(
            access.HABILITATION_BULLETINS,
            "Accuser lecture des rappels et alertes",
            "Lever le blocage des comptoirs après lecture d'un rappel de lots ou d'une alerte sanitaire du DP.",
            default_roles=_ROLES,
        ),
    ]


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    return {
        "dp.feed": deferred("lgo_dp.feeding:deliver"),
        "dp.consent": deferred("lgo_dp.consent:deliver"),
        "dp.acknowledge": deferred("lgo_dp.bulletins:deliver_acknowledgement"),
    }


@hookimpl
def lgo_register_periodic_jobs() -> list[PeriodicJob]:
    from lgo.api import PeriodicJob  # lgo.worker loads the database libraries: not for ``lgo --help``

    return [PeriodicJob("bulletins", 60.0, deferred("lgo_dp.bulletins:fetch"))]
