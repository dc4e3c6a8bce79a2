"""Small plugins used by the kernel's tests (passed to the kernel as objects, not installed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lgo import hookimpl
from lgo.actions import ActionRequired
from lgo.domain import outbox
from lgo.domain.billing import ActDefinition, ActTariff
from lgo.events import BillingEnded, BillingStarted, DispensationValidated, PatientSelected
from lgo.kernel import Kernel
from lgo.migrations import MigrationSource
from lgo.plugins.manifest import Manifest
from sqlalchemy.orm import Session


class Recorder:
    """Records every event it sees and asks for a check at the end of each billing."""

    def __init__(self, name: str = "recorder") -> None:
        self.MANIFEST = Manifest(name=name, plugin_api=">=2.0,<3")
        self.events: list[Any] = []

    @hookimpl
    def lgo_on_patient_selected(self, kernel: Kernel, event: PatientSelected) -> None:
        self.events.append(event)

    @hookimpl
    def lgo_on_billing_start(self, kernel: Kernel, event: BillingStarted) -> ActionRequired:
        self.events.append(event)
        return ActionRequired(
            kind="qualify", plugin=self.MANIFEST.name, title_fr="Qualifier l'identité", patient_id=event.patient_id
        )

    @hookimpl
    def lgo_on_dispensation_validated(self, kernel: Kernel, event: DispensationValidated) -> None:
        self.events.append(event)

    @hookimpl
    def lgo_on_billing_end(self, kernel: Kernel, event: BillingEnded) -> list[ActionRequired]:
        self.events.append(event)
        return [ActionRequired(kind="check", plugin=self.MANIFEST.name, title_fr="Vérifier la note")]


class Exploding:
    """Fails in every event, after having written to the billing's transaction."""

    MANIFEST = Manifest(name="exploding", plugin_api=">=2.0,<3")

    @hookimpl
    def lgo_on_billing_commit(self, kernel: Kernel, session: Session, event: BillingEnded) -> None:
        outbox.enqueue(
            session,
            event.pharmacy_id,
            plugin="exploding",
            kind="exploding.send",
            payload={},
            idempotency_key=f"exploding-{event.invoice_id}",
        )
        raise RuntimeError("panne du module")

    @hookimpl
    def lgo_on_billing_end(self, kernel: Kernel, event: BillingEnded) -> None:
        raise ValueError("panne après la facturation")


class Enqueuer:
    """Writes an outbox message atomically with each billing."""

    MANIFEST = Manifest(name="enqueuer", plugin_api=">=2.0,<3")

    @hookimpl
    def lgo_on_billing_commit(self, kernel: Kernel, session: Session, event: BillingEnded) -> None:
        outbox.enqueue(
            session,
            event.pharmacy_id,
            plugin="enqueuer",
            kind="http.post",
            payload={"url": "http://127.0.0.1:9/", "body": {"invoice": event.invoice_number}},
            idempotency_key=f"enqueuer-{event.invoice_id}",
        )


class Acts:
    MANIFEST = Manifest(name="acts", plugin_api=">=2.0,<3")

    @hookimpl
    def lgo_register_acts(self) -> list[ActDefinition]:
        return [
            ActDefinition("VGP", "Vaccination antigrippale par le pharmacien", 750, 100),
            ActDefinition("INJ", "Injection d'un vaccin prescrit", 630, 70),
            ActDefinition(
                "TRD",
                "TROD angine",
                1000,
                70,
                fee_cents_drom=1050,
                tariffs=(ActTariff("antibiotique", "TROD angine et antibiotique", 1500, 1570),),
            ),
        ]


class WithMigrations:
    """A plugin with its own tables and history (two revisions)."""

    MANIFEST = Manifest(name="sample", plugin_api=">=2.0,<3")

    @hookimpl
    def lgo_register_migrations(self) -> MigrationSource:
        return MigrationSource("sample", Path(__file__).parent / "sample_migrations")
