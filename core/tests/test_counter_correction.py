"""Correcting an ordonnancier line through the counter: habilitation, scoping, the in-transaction hook of the plugins
(``lgo_on_correction_commit``) and the announcement with ``corrects_number``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from lgo import hookimpl
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain import outbox
from lgo.domain.audit import AuditEntry
from lgo.domain.dispensing import Dispensation, create_prescription
from lgo.domain.outbox import OutboxMessage
from lgo.errors import NotFound, PermissionDenied
from lgo.events import DispensationValidated
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from sqlalchemy import select
from sqlalchemy.orm import Session


class Register:
    """A plugin that queues each correction for a national register, atomically with it."""

    def __init__(self, name: str = "register", *, fail: bool = False) -> None:
        self.MANIFEST = Manifest(name=name, plugin_api=">=2.1,<3", label_fr="Registre (test)")
        self.fail = fail
        self.announced: list[DispensationValidated] = []

    @hookimpl
    def lgo_on_correction_commit(self, kernel: Kernel, session: Session, event: DispensationValidated) -> None:
        outbox.enqueue(
            session,
            event.pharmacy_id,
            plugin=self.MANIFEST.name,
            kind="register.correct",
            payload={"number": event.number, "corrects": event.corrects_number},
        )
        if self.fail:
            raise RuntimeError("register down")

    @hookimpl
    def lgo_on_dispensation_validated(self, kernel: Kernel, event: DispensationValidated) -> None:
        self.announced.append(event)


def _dispensed(kernel: Kernel, seeded: Seeded) -> int:
    with kernel.transaction() as session:
        prescription = create_prescription(
            session, seeded.pharmacy_id, seeded.patients["jean"], prescriber_name="Dr Démo", prescribed_on=date.today()
        ).id
    counter = Counter(kernel, seeded.pharmacy_id, seeded.operators["titulaire"])
    billing = counter.start_billing(prescription_id=prescription)
    counter.add_product(billing, seeded.products["paracetamol"], 2)
    counter.end_billing(billing)
    with kernel.transaction() as session:
        return session.scalars(select(Dispensation.id)).one()


def test_a_correction_is_written_queued_by_plugins_and_announced(
    lgo_make_kernel: Callable[..., Any], lgo_seeded: Seeded
) -> None:
    good, broken = Register(), Register("broken", fail=True)
    kernel: Kernel = lgo_make_kernel(good, broken, strict=False)
    for plugin in ("register", "broken"):
        kernel.enable(lgo_seeded.pharmacy_id, plugin)
    original = _dispensed(kernel, lgo_seeded)
    counter = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"])
    counter.correct_dispensation(original, quantity=1, reason="une boîte rendue", lot_number="PA24A")

    (event,) = good.announced[1:]  # the first announcement is the billing's own line
    assert (event.number, event.corrects_number, event.quantity) == (2, 1, 1)
    with kernel.transaction() as session:
        queued = session.scalars(select(OutboxMessage.plugin)).all()
        assert queued == ["register"]  # the failing plugin's savepoint was rolled back, nothing else
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "ordonnancier.corrected")) is not None
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "plugin.failure")) is not None


def test_a_correction_needs_the_habilitation_and_a_line_of_this_pharmacy(
    lgo_make_kernel: Callable[..., Any], lgo_seeded: Seeded
) -> None:
    kernel: Kernel = lgo_make_kernel()
    original = _dispensed(kernel, lgo_seeded)
    with pytest.raises(PermissionDenied, match="corriger l'ordonnancier"):
        Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["preparatrice"]).correct_dispensation(
            original, quantity=1, reason="x"
        )
    titulaire = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"])
    for wrong in (original + 1000, "abc"):
        with pytest.raises(NotFound, match="Ligne d'ordonnancier"):
            titulaire.correct_dispensation(wrong, quantity=1, reason="x")  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="Lot « ZZZ » inconnu"):
        titulaire.correct_dispensation(original, quantity=1, reason="x", lot_number="ZZZ")
    with kernel.transaction() as session:
        assert session.scalars(select(Dispensation)).all()[-1].id == original  # nothing written
