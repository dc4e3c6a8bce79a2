"""Events are called one implementation at a time: a failing plugin is recorded and never stops the billing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain.audit import AuditEntry
from lgo.domain.billing import Invoice
from lgo.domain.dispensing import create_prescription
from lgo.domain.outbox import OutboxMessage
from lgo.domain.plugin_state import PluginFailure
from lgo.events import BillingEnded, BillingStarted, DispensationValidated, PatientSelected
from lgo.kernel import Kernel
from sample_plugins import Enqueuer, Exploding, Recorder
from sqlalchemy import select


def _enable_all(kernel: Kernel, pharmacy_id: int) -> None:
    for info in kernel.registry.loaded():
        kernel.enable(pharmacy_id, info.name)


def _prescription(kernel: Kernel, seeded: Seeded, patient: str = "camille") -> int:
    with kernel.transaction() as session:
        return create_prescription(
            session,
            seeded.pharmacy_id,
            seeded.patients[patient],
            prescriber_name="Dr Démo",
            prescribed_on=date.today(),
        ).id


def test_a_failing_plugin_does_not_stop_the_billing_nor_the_others(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    recorder = Recorder()
    kernel = lgo_make_kernel(Exploding(), recorder, Enqueuer(), strict=False)
    _enable_all(kernel, lgo_seeded.pharmacy_id)
    counter = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["adjoint"])
    patient = lgo_seeded.patients["camille"]

    assert counter.select_patient(patient, source="vitale") == []
    billing = counter.start_billing(prescription_id=_prescription(kernel, lgo_seeded))
    assert [a.kind for a in billing.actions] == ["qualify"]
    counter.add_product(billing, lgo_seeded.products["amoxicilline"], 1)
    result = counter.end_billing(billing)

    assert [a.title_fr for a in result.actions] == ["Vérifier la note"]
    kinds = [type(e) for e in recorder.events]
    assert kinds == [PatientSelected, BillingStarted, DispensationValidated, BillingEnded]
    with kernel.transaction() as session:
        assert session.get(Invoice, result.invoice_id) is not None
        failures = session.scalars(select(PluginFailure).order_by(PluginFailure.id)).all()
        assert [(f.plugin, f.hook, f.error_type) for f in failures] == [
            ("exploding", "lgo_on_billing_commit", "RuntimeError"),
            ("exploding", "lgo_on_billing_end", "ValueError"),
        ]
        assert "panne du module" in failures[0].message
        # The failing plugin's writes were rolled back with its savepoint; the other plugin's stayed.
        keys = set(session.scalars(select(OutboxMessage.idempotency_key)))
        assert keys == {f"enqueuer-{result.invoice_id}"}
        audit_failures = session.scalars(select(AuditEntry).where(AuditEntry.action == "plugin.failure")).all()
        assert {a.actor for a in audit_failures} == {"exploding"}


def test_strict_mode_re_raises_for_tests(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> None:
    kernel = lgo_make_kernel(Exploding(), strict=True)
    _enable_all(kernel, lgo_seeded.pharmacy_id)
    counter = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["adjoint"])
    billing = counter.start_billing(lgo_seeded.patients["camille"])
    counter.add_product(billing, lgo_seeded.products["serum"], 1)
    with pytest.raises(RuntimeError, match="panne du module"):
        counter.end_billing(billing)
    with kernel.transaction() as session:  # strict: the whole billing was rolled back
        assert session.scalars(select(Invoice)).all() == []


def test_events_reach_only_plugins_active_in_the_pharmacy(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    recorder = Recorder()
    kernel = lgo_make_kernel(recorder)
    counter = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["adjoint"])
    counter.select_patient(lgo_seeded.patients["jean"])
    assert recorder.events == []  # installed but not enabled here
    kernel.enable(lgo_seeded.pharmacy_id, "recorder")
    counter.select_patient(lgo_seeded.patients["jean"])
    assert len(recorder.events) == 1


def test_outbox_rows_of_plugins_exist_if_and_only_if_the_billing_does(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(Enqueuer())
    _enable_all(kernel, lgo_seeded.pharmacy_id)
    counter = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["adjoint"])
    billing = counter.start_billing(prescription_id=_prescription(kernel, lgo_seeded))
    counter.add_product(billing, lgo_seeded.products["tramadol"], 5)  # 1 on hand: refused
    with pytest.raises(Exception, match="Stock insuffisant"):
        counter.end_billing(billing)
    with kernel.transaction() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
