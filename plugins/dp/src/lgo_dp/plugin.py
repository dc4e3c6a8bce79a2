"""Entry point of the ``dp`` plugin: manifest, hooks, outbox handlers, periodic job, habilitations, commands.

Kept light: the modules doing the work are imported inside the hooks, so that ``lgo --help`` stays quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, HabilitationDefinition, Manifest, MigrationSource, PeriodicJob, hookimpl

from lgo_dp.settings import DpSettings

if TYPE_CHECKING:
    from lgo.api import (
        ActionRequired,
        BillingEnded,
        BillingStarted,
        Delivery,
        DispensationValidated,
        IdentityQualified,
        Kernel,
        PatientSelected,
    )
    from sqlalchemy.orm import Session

MANIFEST = Manifest(
    name="dp",
    plugin_api=">=2.1,<3",
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

_ROLES = ("titulaire", "pharmacien_adjoint", "preparateur")


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("dp", Path(__file__).parent / "migrations")


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


def _feed(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_dp import feeding

    feeding.deliver(kernel, delivery)


def _consent(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_dp import consent

    consent.deliver(kernel, delivery)


def _acknowledge(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_dp import bulletins

    bulletins.deliver_acknowledgement(kernel, delivery)


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    return {"dp.feed": _feed, "dp.consent": _consent, "dp.acknowledge": _acknowledge}


def _fetch_bulletins(kernel: Kernel, pharmacy_id: int) -> None:
    from lgo_dp import bulletins

    bulletins.fetch(kernel, pharmacy_id)


@hookimpl
def lgo_register_periodic_jobs() -> list[PeriodicJob]:
    return [PeriodicJob("bulletins", 60.0, _fetch_bulletins)]


@hookimpl
def lgo_register_cli_commands() -> list[Any]:
    from lgo_dp.cli import dp

    return [dp]


@hookimpl
def lgo_on_billing_commit(kernel: Kernel, session: Session, event: BillingEnded) -> None:
    from lgo_dp import feeding

    feeding.on_billing_commit(session, event)


@hookimpl
def lgo_on_correction_commit(kernel: Kernel, session: Session, event: DispensationValidated) -> None:
    from lgo_dp import feeding

    feeding.on_correction_commit(session, event)


@hookimpl
def lgo_on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    from lgo_dp import feeding

    feeding.on_identity_qualified(kernel, event.pharmacy_id, event.patient_id)


@hookimpl
def lgo_on_patient_selected(kernel: Kernel, event: PatientSelected) -> list[ActionRequired]:
    from lgo_dp import bulletins, consent

    found = bulletins.actions(kernel, event.pharmacy_id)
    proposal = consent.proposal(kernel, event.pharmacy_id, event.patient_id, event.operator_id)
    return found + ([proposal] if proposal else [])


@hookimpl
def lgo_on_billing_start(kernel: Kernel, event: BillingStarted) -> list[ActionRequired]:
    from lgo_dp import bulletins

    return bulletins.actions(kernel, event.pharmacy_id)
