"""The counter workflow: select a patient, start a billing, add lines, end the billing.

A billing is a draft in memory until it ends; ending it writes, in one transaction, the invoice, the
ordonnancier lines, the stock movements, the audit entries and whatever plugins add in
``lgo_on_billing_commit`` (outbox messages, their own rows). Only then are the events announced. Nothing in
this module waits on a person or on a national service: hooks return actions for the caller to render.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo.actions import ActionRequired
from lgo.db import utcnow
from lgo.domain import audit, drafts, stock
from lgo.domain.billing import (
    INVOICE,
    ActDefinition,
    Invoice,
    InvoiceLine,
    LineKind,
    Shares,
    compute_shares,
    euros,
    in_drom,
)
from lgo.domain.dispensing import ORDONNANCIER, Dispensation, Prescription, correct_dispensation, record_dispensation
from lgo.domain.patients import Patient
from lgo.domain.pharmacy import Habilitation, Operator, Pharmacy
from lgo.domain.products import product_by_cip13
from lgo.domain.scoped import get_scoped
from lgo.domain.sequences import next_number, next_numbers
from lgo.errors import InsufficientStock, NotFound, PermissionDenied, ValidationError
from lgo.events import (
    BilledLine,
    BillingEnded,
    BillingStarted,
    DispensationValidated,
    PatientSelected,
)

if TYPE_CHECKING:
    from lgo.kernel import Kernel


@dataclass
class DraftLine:
    kind: LineKind
    label: str
    quantity: int
    unit_price_cents: int
    reimbursement_rate: int
    product_id: int | None = None
    cip13: str | None = None
    is_vaccine: bool = False
    needs_prescription: bool = False
    lot_number: str | None = None
    act_code: str | None = None
    force: bool = False
    force_reason: str = ""


def act_line(session: Session, pharmacy_id: int, act: ActDefinition, tariff: str | None, quantity: int) -> DraftLine:
    """The line of an act at its fee (or one of its named ``tariff``), the DROM fee in an overseas pharmacy."""
    pharmacy = session.get(Pharmacy, pharmacy_id)
    label, fee = act.fee(tariff, drom=pharmacy is not None and in_drom(pharmacy.postal_code))
    return DraftLine(
        kind=LineKind.ACT,
        label=label,
        quantity=quantity,
        unit_price_cents=fee,
        reimbursement_rate=act.reimbursement_rate,
        act_code=act.code,
    )


@dataclass
class Billing:
    """A billing being prepared at the counter (nothing is written until :meth:`Counter.end_billing`)."""

    id: str
    pharmacy_id: int
    operator_id: int
    patient_id: int | None
    prescription_id: int | None
    lines: list[DraftLine] = field(default_factory=list)
    actions: list[ActionRequired] = field(default_factory=list)
    #: The counter's saved draft (:mod:`lgo.domain.drafts`) this billing comes from, if any: ending the billing
    #: closes it in the same transaction, so that it is never billed twice.
    draft_id: int | None = None

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)


@dataclass(frozen=True)
class BillingResult:
    invoice_id: int
    invoice_number: int
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int
    dispensation_numbers: tuple[int, ...]
    event: BillingEnded
    actions: tuple[ActionRequired, ...]

    def summary_fr(self) -> str:
        return (
            f"Facture n° {self.invoice_number} : total {euros(self.total_cents)}, "
            f"AMO {euros(self.amo_cents)}, AMC {euros(self.amc_cents)}, patient {euros(self.patient_cents)}"
        )


class Counter:
    """One operator at one counter of one pharmacy."""

    def __init__(self, kernel: Kernel, pharmacy_id: int, operator_id: int) -> None:
        self.kernel = kernel
        self.pharmacy_id = pharmacy_id
        self.operator_id = operator_id

    # --- patient ---------------------------------------------------------------------------------------

    def select_patient(self, patient_id: int, source: str = "nom") -> list[ActionRequired]:
        with self.kernel.transaction() as session:
            self._patient(session, patient_id)
            audit.record(
                session,
                self.pharmacy_id,
                "patient.selected",
                f"Patient sélectionné ({source}).",
                operator_id=self.operator_id,
                patient_id=patient_id,
            )
        event = PatientSelected(self.pharmacy_id, self.operator_id, patient_id, source)
        return self.kernel.hooks.on_patient_selected(event)

    # --- billing ---------------------------------------------------------------------------------------

    def start_billing(self, patient_id: int | None = None, prescription_id: int | None = None) -> Billing:
        if prescription_id is not None:
            with self.kernel.reading() as session:
                prescription = session.get(Prescription, prescription_id)
                if prescription is None or prescription.pharmacy_id != self.pharmacy_id:
                    raise NotFound(f"Ordonnance n° {prescription_id} introuvable.")
                if patient_id is not None and prescription.patient_id != patient_id:
                    raise ValidationError("Cette ordonnance appartient à un autre patient.")
                patient_id = prescription.patient_id
        billing = Billing(uuid.uuid4().hex, self.pharmacy_id, self.operator_id, patient_id, prescription_id)
        event = BillingStarted(self.pharmacy_id, self.operator_id, billing.id, patient_id, prescription_id)
        billing.actions.extend(self.kernel.hooks.on_billing_start(event))
        return billing

    def add_product(
        self,
        billing: Billing,
        cip13: str,
        quantity: int = 1,
        *,
        lot_number: str | None = None,
        force: bool = False,
        force_reason: str = "",
    ) -> DraftLine:
        """Add a product by CIP13. Stock is checked when the billing ends (under lock). ``force`` sells beyond
        the stock on hand, knowingly: it needs the habilitation and a reason, both recorded."""
        if quantity <= 0:
            raise ValidationError("La quantité doit être positive.")
        with self.kernel.reading() as session:
            product = product_by_cip13(session, self.pharmacy_id, cip13)
            if force:
                operator = session.get(Operator, self.operator_id)
                if operator is None or not operator.has(Habilitation.STOCK_FORCE):
                    raise PermissionDenied("Vous n'êtes pas habilité à vendre au-delà du stock.")
                if not force_reason.strip():
                    raise ValidationError("Une vente au-delà du stock doit être motivée.")
            line = DraftLine(
                kind=LineKind.PRODUCT,
                label=product.label,
                quantity=quantity,
                unit_price_cents=product.price_cents,
                reimbursement_rate=product.reimbursement_rate if billing.prescription_id else 0,
                product_id=product.id,
                cip13=product.cip13,
                is_vaccine=product.is_vaccine,
                needs_prescription=product.needs_prescription,
                lot_number=lot_number,
                force=force,
                force_reason=force_reason.strip(),
            )
        billing.lines.append(line)
        return line

    def add_act(self, billing: Billing, code: str, quantity: int = 1, *, tariff: str | None = None) -> DraftLine:
        """Add an act by its code, at its fee (or at one of its named ``tariff``), the DROM fee in an overseas
        pharmacy."""
        act = self.kernel.acts.get(code)
        if act is None:
            known = ", ".join(sorted(self.kernel.acts)) or "aucun (activez le module qui les déclare)"
            raise ValidationError(f"Acte inconnu : « {code} ». Actes disponibles : {known}.")
        with self.kernel.transaction() as session:
            line = act_line(session, self.pharmacy_id, act, tariff, quantity)
        billing.lines.append(line)
        return line

    def end_billing(self, billing: Billing) -> BillingResult:
        """Validate the billing atomically, then announce it. Raises (and writes nothing) on a stock or
        validation problem."""
        if not billing.lines:
            raise ValidationError("La facturation est vide.")
        pharmacist_prescribed = self._check_prescription(billing)
        commit_failures: list[tuple[str, str, BaseException]] = []
        with self.kernel.transaction() as session:
            draft = drafts.lock_open(session, self.pharmacy_id, billing.draft_id) if billing.draft_id else None
            invoice, event, dispensations = self._write_billing(session, billing)
            if pharmacist_prescribed:
                audit.record(
                    session,
                    self.pharmacy_id,
                    "billing.pharmacist_prescription",
                    f"Vaccin délivré sans ordonnance médicale, sur prescription du pharmacien ({pharmacist_prescribed})"
                    f" : {', '.join(line.label for line in billing.lines if line.needs_prescription)}.",
                    operator_id=self.operator_id,
                    patient_id=billing.patient_id,
                    object_type="invoice",
                    object_id=event.invoice_id,
                )
            if draft is not None:
                draft.status = drafts.DraftStatus.VALIDATED
                draft.invoice_id = event.invoice_id
                draft.version += 1
            self._run_commit_hooks(session, event, commit_failures)
        for plugin, hook, exc in commit_failures:
            self.kernel._record_failure_safely(plugin, hook, exc, self.pharmacy_id)

        actions: list[ActionRequired] = []
        for entry in dispensations:
            actions += self.kernel.hooks.on_dispensation_validated(
                DispensationValidated(
                    self.pharmacy_id,
                    self.operator_id,
                    entry.id,
                    entry.number,
                    entry.patient_id,
                    entry.prescription_id,
                    entry.product_id,
                    entry.quantity,
                )
            )
        actions += self.kernel.hooks.on_billing_end(event)
        return BillingResult(
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            total_cents=invoice.total_cents,
            amo_cents=invoice.amo_cents,
            amc_cents=invoice.amc_cents,
            patient_cents=invoice.patient_cents,
            dispensation_numbers=tuple(d.number for d in dispensations),
            event=event,
            actions=tuple(actions),
        )

    # --- ordonnancier --------------------------------------------------------------------------------------

    def correct_dispensation(
        self, dispensation_id: int, *, quantity: int, reason: str, lot_number: str | None = None
    ) -> list[ActionRequired]:
        """Correct an ordonnancier line: a new line (new number) pointing at the corrected one, written with the
        audit entry and whatever plugins add in ``lgo_on_correction_commit`` (e.g. the correction queued for a
        national register) in one transaction, then announced (``lgo_on_dispensation_validated`` with
        ``corrects_number``). Needs the habilitation ``ordonnancier.correct``."""
        if quantity < 0:
            raise ValidationError("La quantité corrigée ne peut pas être négative.")
        failures: list[tuple[str, str, BaseException]] = []
        with self.kernel.transaction() as session:
            operator = session.get(Operator, self.operator_id)
            if operator is None or not operator.has(Habilitation.ORDONNANCIER_CORRECT):
                raise PermissionDenied("Vous n'êtes pas habilité(e) à corriger l'ordonnancier.")
            original = get_scoped(session, Dispensation, dispensation_id, self.pharmacy_id, "ligne d'ordonnancier")
            lot_id = None
            if lot_number is not None:
                lot = session.scalar(
                    select(stock.Lot).where(
                        stock.Lot.product_id == original.product_id, stock.Lot.lot_number == lot_number
                    )
                )
                if lot is None:
                    raise NotFound(f"Lot « {lot_number} » inconnu pour ce produit.")
                lot_id = lot.id
            fixed = correct_dispensation(
                session, original.id, quantity=quantity, reason=reason, operator_id=self.operator_id, lot_id=lot_id
            )
            audit.record(
                session,
                self.pharmacy_id,
                "ordonnancier.corrected",
                f"Ligne n° {original.number} de l'ordonnancier corrigée par la ligne n° {fixed.number} "
                f"({fixed.correction_reason}).",
                operator_id=self.operator_id,
                patient_id=original.patient_id,
                object_type="dispensation",
                object_id=fixed.id,
            )
            event = DispensationValidated(
                self.pharmacy_id,
                self.operator_id,
                fixed.id,
                fixed.number,
                fixed.patient_id,
                fixed.prescription_id,
                fixed.product_id,
                fixed.quantity,
                corrects_number=original.number,
            )
            hooks = self.kernel.hooks
            for plugin in hooks.correction_commit_implementers(self.kernel.active_plugins(self.pharmacy_id)):
                savepoint = session.begin_nested()
                if hooks.on_correction_commit(plugin, session, event, failures):
                    savepoint.commit()
                else:
                    savepoint.rollback()
        for plugin, hook, exc in failures:
            self.kernel._record_failure_safely(plugin, hook, exc, self.pharmacy_id)
        return self.kernel.hooks.on_dispensation_validated(event)

    # --- internals -------------------------------------------------------------------------------------

    def _check_prescription(self, billing: Billing) -> str:
        """Listed medicines need a prescription, except vaccines given with an act the pharmacist prescribes
        himself (:attr:`lgo.domain.billing.ActDefinition.pharmacist_prescribes`: a vaccination without a medical
        prescription needs no made-up one). Returns the act codes that allowed it, else ``""``."""
        listed = [line for line in billing.lines if line.needs_prescription]
        if billing.prescription_id is not None or not listed:
            return ""
        prescribing = sorted(
            {
                line.act_code
                for line in billing.lines
                if line.act_code and (act := self.kernel.acts.get(line.act_code)) and act.pharmacist_prescribes
            }
        )
        if prescribing and all(line.is_vaccine for line in listed):
            return ", ".join(prescribing)
        names = ", ".join(line.label for line in listed)
        raise ValidationError(f"Médicament(s) listé(s) sans ordonnance : {names}.")

    def _patient(self, session: Session, patient_id: int) -> Patient:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.pharmacy_id != self.pharmacy_id:
            raise NotFound(f"Patient n° {patient_id} introuvable.")
        return patient

    def _write_billing(self, session: Session, billing: Billing) -> tuple[Invoice, BillingEnded, list[Dispensation]]:
        """The billing's rows in the caller's transaction: lots chosen under lock, then the numbers (taken late, so
        that the lock serialising the pharmacy's counters is held briefly), then every row in one flush per table."""
        complementary_rate = 0
        if billing.patient_id is not None:
            complementary_rate = self._patient(session, billing.patient_id).complementary_rate
        lots, remaining = self._lock_and_pick_lots(session, billing)
        shares = [
            compute_shares(line.quantity * line.unit_price_cents, line.reimbursement_rate, complementary_rate)
            for line in billing.lines
        ]
        in_ordonnancier = billing.prescription_id is not None and billing.patient_id is not None
        invoice_number = next_number(session, self.pharmacy_id, INVOICE)
        numbers = iter(
            next_numbers(
                session,
                self.pharmacy_id,
                ORDONNANCIER,
                sum(1 for lot in lots if lot is not None) if in_ordonnancier else 0,
            )
        )
        invoice = Invoice(
            pharmacy_id=self.pharmacy_id,
            number=invoice_number,
            patient_id=billing.patient_id,
            prescription_id=billing.prescription_id,
            operator_id=self.operator_id,
            total_cents=sum(s.total_cents for s in shares),
            amo_cents=sum(s.amo_cents for s in shares),
            amc_cents=sum(s.amc_cents for s in shares),
            patient_cents=sum(s.patient_cents for s in shares),
            validated_at=utcnow(),
        )
        session.add(invoice)
        session.flush()

        billed: list[BilledLine] = []
        dispensations: list[Dispensation] = []
        for position, (line, lot, share) in enumerate(zip(billing.lines, lots, shares, strict=True), start=1):
            session.add(self._invoice_line(invoice, position, line, lot, share))
            number = None
            if lot is not None:
                self._take(session, billing, invoice, line, lot, remaining)
                if in_ordonnancier:
                    assert billing.prescription_id is not None and billing.patient_id is not None
                    entry = record_dispensation(
                        session,
                        pharmacy_id=self.pharmacy_id,
                        prescription_id=billing.prescription_id,
                        patient_id=billing.patient_id,
                        product_id=lot.product_id,
                        lot_id=lot.id,
                        quantity=line.quantity,
                        operator_id=self.operator_id,
                        invoice_id=invoice.id,
                        number=next(numbers),
                    )
                    dispensations.append(entry)
                    number = entry.number
            billed.append(
                BilledLine(
                    position=position,
                    kind=line.kind.value,
                    label=line.label,
                    quantity=line.quantity,
                    unit_price_cents=line.unit_price_cents,
                    product_id=line.product_id,
                    cip13=line.cip13,
                    is_vaccine=line.is_vaccine,
                    lot_id=lot.id if lot else None,
                    lot_number=lot.lot_number if lot else None,
                    act_code=line.act_code,
                    dispensation_number=number,
                )
            )
        audit.record(
            session,
            self.pharmacy_id,
            "billing.validated",
            f"Facture n° {invoice.number} validée ({euros(invoice.total_cents)}, {len(billing.lines)} ligne(s)).",
            operator_id=self.operator_id,
            patient_id=billing.patient_id,
            object_type="invoice",
            object_id=invoice.id,
        )
        session.flush()
        event = BillingEnded(
            pharmacy_id=self.pharmacy_id,
            operator_id=self.operator_id,
            billing_id=billing.id,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            patient_id=billing.patient_id,
            prescription_id=billing.prescription_id,
            lines=tuple(billed),
            total_cents=invoice.total_cents,
            validated_at=invoice.validated_at,
        )
        return invoice, event, dispensations

    def _lock_and_pick_lots(self, session: Session, billing: Billing) -> tuple[list[stock.Lot | None], dict[int, int]]:
        """Each product line's lot, chosen among the lots read (and their products locked) in one query, with the
        units on hand of those lots: a later line of the billing sees what the earlier ones take."""
        today = date.today()
        products = [line for line in billing.lines if line.kind is LineKind.PRODUCT]
        candidates = stock.lots_for_sale(
            session, [(line.product_id, line.lot_number) for line in products if line.product_id is not None], today
        )
        on_hand = stock.on_hand_by_lot(session, [lot.id for lot in candidates])
        planned = dict(on_hand)
        picked: list[stock.Lot | None] = []
        for line in billing.lines:
            lot = None
            if line.kind is LineKind.PRODUCT:
                lot = self._lot_for(line, [c for c in candidates if c.product_id == line.product_id], planned, today)
                planned[lot.id] -= line.quantity
            picked.append(lot)
        return picked, on_hand

    def _invoice_line(
        self, invoice: Invoice, position: int, line: DraftLine, lot: stock.Lot | None, share: Shares
    ) -> InvoiceLine:
        return InvoiceLine(
            pharmacy_id=self.pharmacy_id,
            invoice_id=invoice.id,
            position=position,
            kind=line.kind,
            product_id=line.product_id,
            lot_id=lot.id if lot else None,
            act_code=line.act_code,
            label=line.label,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            reimbursement_rate=line.reimbursement_rate,
            total_cents=share.total_cents,
            amo_cents=share.amo_cents,
            amc_cents=share.amc_cents,
            patient_cents=share.patient_cents,
        )

    def _take(
        self,
        session: Session,
        billing: Billing,
        invoice: Invoice,
        line: DraftLine,
        lot: stock.Lot,
        remaining: dict[int, int],
    ) -> None:
        """The line's stock movement, checked against what the billing's earlier lines left in the lot."""
        movement = stock.take(
            session,
            lot,
            line.quantity,
            operator_id=self.operator_id,
            invoice_id=invoice.id,
            force=line.force,
            reason=line.force_reason,
            available=remaining[lot.id],
        )
        remaining[lot.id] -= line.quantity
        if movement.forced:
            audit.record(
                session,
                self.pharmacy_id,
                "stock.forced_sale",
                f"Vente au-delà du stock : {line.label}, lot {lot.lot_number} ({line.force_reason}).",
                operator_id=self.operator_id,
                patient_id=billing.patient_id,
                object_type="stock_lot",
                object_id=lot.id,
                details={"quantity": line.quantity},
            )

    def _lot_for(self, line: DraftLine, lots: list[stock.Lot], units: dict[int, int], today: date) -> stock.Lot:
        if line.lot_number is not None:
            lot = next((lot for lot in lots if lot.lot_number == line.lot_number), None)
            if lot is None:
                raise NotFound(f"Lot « {line.lot_number} » inconnu pour {line.label}.")
            if lot.expiry < today:
                raise ValidationError(f"Le lot {lot.lot_number} de {line.label} est périmé ({lot.expiry:%d/%m/%Y}).")
            return lot
        lot = stock.choose_lot(lots, units, line.quantity, today)
        if lot is None:
            if line.force:
                raise ValidationError(
                    f"Aucun lot en cours de validité pour {line.label} : enregistrez d'abord une réception."
                )
            raise InsufficientStock(f"Aucun stock disponible pour {line.label}.")
        return lot

    def _run_commit_hooks(
        self, session: Session, event: BillingEnded, failures: list[tuple[str, str, BaseException]]
    ) -> None:
        """Each active plugin's ``lgo_on_billing_commit`` in a savepoint of its own; failures are recorded after
        the commit. The active plugins are read with this transaction's session (``Kernel._reading``): never a
        second connection while this one holds the write lock."""
        for plugin in self.kernel.hooks.billing_commit_implementers(self.kernel.active_plugins(self.pharmacy_id)):
            savepoint = session.begin_nested()
            if self.kernel.hooks.on_billing_commit(plugin, session, event, failures):
                savepoint.commit()
            else:
                savepoint.rollback()
