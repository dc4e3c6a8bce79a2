"""The counter flow of an ordonnance numérique.

1. :func:`retrieve`: the scanned QR code (or typed number) is checked, the prescription fetched through the selected
   transport, compared with the selected patient, and each line mapped to a local product.
2. :func:`decide_line` / :func:`confirm_line` (one keystroke for a conforming line): as prescribed, substitution,
   dosage or quantity adaptation, not dispensed (with a reason), partial dispensing.
3. :func:`control_view` lists the differences; :func:`validate_and_bill` bills through the kernel's counter. The
   first transmission (dispensed products) is queued inside the billing's transaction.
4. :func:`acknowledge_invoice_batch` (called when the invoice batch is acknowledged) queues the billing complement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    BillingResult,
    Choice,
    Counter,
    Dispensation,
    Invoice,
    NotFound,
    Patient,
    Product,
    ValidationError,
    certificates,
    create_prescription,
    get_scoped,
    outbox,
    traits,
)
from lgo.api import audit as journal
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lgo_eordonnance import identifier as ident
from lgo_eordonnance.model import Execution
from lgo_eordonnance.settings import EOrdonnanceSettings
from lgo_eordonnance.transport import EOrdonnanceTransport, Prescription, RetrievalUnavailable

if TYPE_CHECKING:
    from lgo.api import BillingEnded, Delivery, Kernel

PLUGIN = "eordonnance"
KIND_DISPENSING = "eordonnance.dispensing"
KIND_BILLING = "eordonnance.billing"

KINDS = {
    "as_prescribed": "délivré comme prescrit",
    "substitution": "substitution (générique ou biosimilaire)",
    "adaptation": "adaptation de la posologie ou de la quantité",
    "not_dispensed": "non délivré",
    "partial": "délivrance partielle",
}


@dataclass(frozen=True)
class Retrieved:
    execution_id: int
    prescription: Prescription
    renewal_number: int
    #: line id → CIP13 of the local product found for it (None: the pharmacist chooses).
    mapping: dict[str, str | None]
    actions: tuple[ActionRequired, ...]


def transport(kernel: Kernel, pharmacy_id: int) -> EOrdonnanceTransport:
    """The transport selected for the pharmacy, built with its settings and the pharmacy's certificate (a driver
    factory takes ``(settings, credential)``)."""
    settings = kernel.plugin_settings(pharmacy_id, PLUGIN)
    assert isinstance(settings, EOrdonnanceSettings)
    if not settings.endpoint:
        raise RetrievalUnavailable(
            "L'adresse du service de l'ordonnance numérique n'est pas renseignée (Paramètres › Ordonnance "
            "numérique) : poursuivez avec l'ordonnance papier.",
            detail="eordonnance endpoint not configured",
        )
    factory = kernel.provider(pharmacy_id, PLUGIN)
    with kernel.transaction() as session:
        try:
            credential = certificates.pharmacy_credential(session, pharmacy_id)
        except NotFound as exc:
            raise RetrievalUnavailable(
                f"{exc.message_fr} Poursuivez avec l'ordonnance papier.", detail=exc.detail
            ) from exc
    driver: EOrdonnanceTransport = factory(settings, credential)
    return driver


def _identity_differences(patient: Patient, prescription: Prescription, qualified_ins: str | None) -> list[str]:
    differences = []
    if not traits.same_name(patient.birth_name, prescription.patient_birth_name):
        differences.append(f"nom « {patient.birth_name} » / « {prescription.patient_birth_name} »")
    if not traits.first_name_in(prescription.patient_first_name, patient.first_names):
        differences.append(f"prénom « {patient.first_names} » / « {prescription.patient_first_name} »")
    if patient.birth_date_text != prescription.patient_birth_date:
        differences.append(f"date de naissance {patient.birth_date_text} / {prescription.patient_birth_date}")
    if prescription.patient_ins and qualified_ins and qualified_ins != prescription.patient_ins:
        differences.append("INS différent de celui de l'ordonnance")
    return differences


def _map_line(session: Session, pharmacy_id: int, line: Any) -> str | None:
    query = select(Product.cip13).where(Product.pharmacy_id == pharmacy_id)
    if line.cip13:
        found = session.scalar(query.where(Product.cip13 == line.cip13))
        if found:
            return str(found)
    if line.cis:
        found = session.scalar(query.where(Product.cis == line.cis).order_by(Product.cip13))
        if found:
            return str(found)
    return None


def retrieve(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, scanned: str) -> Retrieved:
    """Check the code, fetch the prescription, compare the patient, map the lines."""
    number = ident.parse(scanned)
    prescription = transport(kernel, pharmacy_id).retrieve(number)
    # Asked before our transaction: the identity plugin reads in its own (SQLite allows one writer at a time).
    qualified_ins = (
        kernel.shareable_identity(pharmacy_id, patient_id).matricule
        if kernel.is_identity_shareable(pharmacy_id, patient_id)
        else None
    )
    with kernel.transaction() as session:
        patient = get_scoped(session, Patient, patient_id, pharmacy_id, "patient")
        differences = _identity_differences(patient, prescription, qualified_ins)
        mapping = {line.line_id: _map_line(session, pharmacy_id, line) for line in prescription.lines}
        execution = Execution(
            pharmacy_id=pharmacy_id,
            patient_id=patient_id,
            operator_id=operator_id,
            identifier=number,
            renewal_number=prescription.dispensings_done,
            prescription=_as_json(prescription),
            lines=[
                {
                    "line_id": line.line_id,
                    "label": line.label,
                    "prescribed": line.quantity,
                    "remaining": line.quantity - prescription.already_dispensed.get(line.line_id, 0),
                    "cip13": mapping[line.line_id],
                    "kind": None,
                    "quantity": 0,
                    "reason": "",
                    "info": "",
                }
                for line in prescription.lines
            ],
            status="draft",
        )
        session.add(execution)
        session.flush()
        execution_id = execution.id
        retrieved = f"Ordonnance numérique {number} récupérée (renouvellement {prescription.dispensings_done})."
        journal.record_about(
            session, execution, "eordonnance.retrieved", retrieved, actor=PLUGIN, operator_id=operator_id
        )
    actions: list[ActionRequired] = []
    if differences:
        actions.append(
            ActionRequired(
                kind="eordonnance.confirm_patient",
                plugin=PLUGIN,
                title_fr="Cette ordonnance est-elle bien celle du patient ?",
                message_fr="Différences : " + " ; ".join(differences) + ".",
                patient_id=patient_id,
                choices=(Choice("confirm", "C'est bien ce patient"), Choice("cancel", "Abandonner")),
                blocking=True,
            )
        )
    unmapped = [line.label for line in prescription.lines if mapping[line.line_id] is None]
    if unmapped:
        actions.append(
            ActionRequired(
                kind="eordonnance.choose_product",
                plugin=PLUGIN,
                title_fr="Choisir le produit délivré",
                message_fr="Aucun produit du catalogue ne correspond à : " + ", ".join(unmapped) + ".",
                patient_id=patient_id,
            )
        )
    return Retrieved(execution_id, prescription, prescription.dispensings_done, mapping, tuple(actions))


def _as_json(prescription: Prescription) -> dict[str, Any]:
    data = asdict(prescription)
    data["lines"] = [asdict(line) for line in prescription.lines]
    return data


def _execution(session: Session, pharmacy_id: int, execution_id: int) -> Execution:
    return get_scoped(session, Execution, execution_id, pharmacy_id, "exécution d'ordonnance")


def decide_line(
    kernel: Kernel,
    pharmacy_id: int,
    execution_id: int,
    line_id: str,
    kind: str,
    *,
    cip13: str | None = None,
    quantity: int | None = None,
    reason: str = "",
    info: str = "",
) -> None:
    """Record how a line is executed (see :data:`KINDS`)."""
    if kind not in KINDS:
        raise ValidationError(f"Type d'exécution inconnu : « {kind} ».")
    with kernel.transaction() as session:
        execution = _execution(session, pharmacy_id, execution_id)
        if execution.status != "draft":
            raise ValidationError("Cette délivrance est déjà validée.")
        lines = [dict(line) for line in execution.lines]
        line = next((item for item in lines if item["line_id"] == line_id), None)
        if line is None:
            raise NotFound(f"Ligne {line_id} absente de l'ordonnance.")
        amount = line["remaining"] if quantity is None else quantity
        if kind == "not_dispensed":
            if not reason.strip():
                raise ValidationError("Indiquez pourquoi la ligne n'est pas délivrée.")
            amount = 0
        elif kind == "partial" and not 0 < amount < line["remaining"]:
            raise ValidationError("Une délivrance partielle porte sur une partie seulement de la quantité restante.")
        elif kind == "as_prescribed" and amount != line["remaining"]:
            raise ValidationError("« Délivré comme prescrit » porte sur toute la quantité restante.")
        product = cip13 or line["cip13"]
        if kind != "not_dispensed" and not product:
            raise ValidationError(f"Choisissez le produit délivré pour « {line['label']} ».")
        if kind == "substitution" and product == line["cip13"]:
            raise ValidationError("Une substitution délivre un autre produit que celui prescrit.")
        line.update(kind=kind, cip13=product, quantity=amount, reason=reason.strip(), info=info.strip())
        execution.lines = lines


def confirm_line(kernel: Kernel, pharmacy_id: int, execution_id: int, line_id: str) -> None:
    """One keystroke: the line is dispensed as prescribed."""
    decide_line(kernel, pharmacy_id, execution_id, line_id, "as_prescribed")


@dataclass(frozen=True)
class Difference:
    line_id: str
    label: str
    text_fr: str


def control_view(kernel: Kernel, pharmacy_id: int, execution_id: int) -> list[Difference]:
    """The differences between prescription and dispensing, to check before billing ends."""
    with kernel.transaction() as session:
        lines = _execution(session, pharmacy_id, execution_id).lines
    differences = []
    for line in lines:
        if line["kind"] in (None, "as_prescribed"):
            continue
        text = KINDS[line["kind"]]
        if line["kind"] != "not_dispensed":
            text += f" : {line['quantity']} boîte(s) sur {line['remaining']}"
        if line["reason"]:
            text += f" — motif : {line['reason']}"
        if line["info"]:
            text += f" — {line['info']}"
        differences.append(Difference(line["line_id"], line["label"], text))
    return differences


def validate_and_bill(kernel: Kernel, pharmacy_id: int, execution_id: int, operator_id: int) -> BillingResult:
    """Every line decided → kernel prescription (prescriber and date from the retrieved data) and billing."""
    with kernel.transaction() as session:
        execution = _execution(session, pharmacy_id, execution_id)
        undecided = [line["label"] for line in execution.lines if line["kind"] is None]
        if undecided:
            raise ValidationError("Lignes à traiter avant de facturer : " + ", ".join(undecided) + ".")
        if execution.status != "draft":
            raise ValidationError("Cette délivrance est déjà validée.")
        data = execution.prescription
        prescription = create_prescription(
            session,
            pharmacy_id,
            execution.patient_id,
            prescriber_name=data["prescriber_name"],
            prescriber_rpps=data.get("prescriber_rpps"),
            prescribed_on=date.fromisoformat(data["prescribed_on"]),
        )
        execution.prescription_id = prescription.id
        patient_id, prescription_id = execution.patient_id, prescription.id
        to_bill = [(line["cip13"], line["quantity"]) for line in execution.lines if line["quantity"] > 0]
    counter = Counter(kernel, pharmacy_id, operator_id)
    billing = counter.start_billing(patient_id=patient_id, prescription_id=prescription_id)
    for cip13, quantity in to_bill:
        counter.add_product(billing, cip13, quantity)
    return counter.end_billing(billing)


def on_billing_commit(kernel: Kernel, session: Session, event: BillingEnded) -> None:
    """Inside the billing's transaction: the first transmission exists if and only if the billing does."""
    if event.prescription_id is None:
        return
    execution = session.scalars(
        select(Execution).where(
            Execution.pharmacy_id == event.pharmacy_id,
            Execution.prescription_id == event.prescription_id,
            Execution.status == "draft",
        )
    ).one_or_none()
    if execution is None:
        return
    execution.status = "billed"
    execution.invoice_id = event.invoice_id
    _queue(session, execution, KIND_DISPENSING)


def _queue(session: Session, execution: Execution, kind: str) -> None:
    """One message of each kind per execution: its idempotency key keeps a replayed event from sending it twice."""
    outbox.enqueue(
        session,
        execution.pharmacy_id,
        plugin=PLUGIN,
        kind=kind,
        payload={"execution_id": execution.id},
        idempotency_key=f"{kind.replace('.', '-')}-{execution.id}",
    )


def acknowledge_invoice_batch(kernel: Kernel, pharmacy_id: int, invoice_ids: list[int]) -> int:
    """The invoice batch was acknowledged (a SESAM-Vitale plugin calls this): queue the billing complements."""
    queued = 0
    with kernel.transaction() as session:
        executions = session.scalars(
            select(Execution).where(
                Execution.pharmacy_id == pharmacy_id,
                Execution.invoice_id.in_(invoice_ids),
                Execution.status.in_(["billed", "dispensing_sent"]),
            )
        )
        for execution in executions:
            _queue(session, execution, KIND_BILLING)
            execution.status = "complement_queued" if execution.status == "dispensing_sent" else execution.status
            queued += 1
    return queued


def deliver_dispensing(kernel: Kernel, delivery: Delivery) -> None:
    with kernel.transaction() as session:
        execution = _execution(session, delivery.pharmacy_id, int(delivery.payload["execution_id"]))
        identifier, lines = execution.identifier, execution.lines
        payload = {
            "renewal_number": execution.renewal_number,
            "dispensed_at": datetime.now(UTC).date().isoformat(),
            "lines": [
                {
                    "line_id": line["line_id"],
                    "kind": line["kind"],
                    "cip13": line["cip13"],
                    "quantity": line["quantity"],
                    "reason": line["reason"],
                    "info": line["info"],
                    "closed": line["kind"] in ("not_dispensed", "substitution", "adaptation"),
                }
                for line in lines
            ],
        }
    remote = transport(kernel, delivery.pharmacy_id).send_dispensing(
        identifier, payload, idempotency_key=delivery.idempotency_key
    )
    with kernel.transaction() as session:
        execution = _execution(session, delivery.pharmacy_id, int(delivery.payload["execution_id"]))
        execution.remote_execution_id = remote
        if execution.status == "billed":
            execution.status = "dispensing_sent"


def deliver_billing(kernel: Kernel, delivery: Delivery) -> None:
    with kernel.transaction() as session:
        execution = _execution(session, delivery.pharmacy_id, int(delivery.payload["execution_id"]))
        if execution.remote_execution_id is None:
            raise ValidationError(
                "Le complément de facturation attend la transmission des produits délivrés : il repartira "
                "automatiquement.",
                detail="dispensed products not transmitted yet: the complement waits",
            )
        invoice = session.get(Invoice, execution.invoice_id)
        assert invoice is not None
        identifier, remote = execution.identifier, execution.remote_execution_id
        complement = {
            "invoice_number": invoice.number,
            "total_cents": invoice.total_cents,
            "amo_cents": invoice.amo_cents,
            "amc_cents": invoice.amc_cents,
        }
    transport(kernel, delivery.pharmacy_id).send_billing_complement(
        identifier, remote, complement, idempotency_key=delivery.idempotency_key
    )
    with kernel.transaction() as session:
        _execution(session, delivery.pharmacy_id, int(delivery.payload["execution_id"])).status = "complement_sent"


def share_of_dispensings(kernel: Kernel, pharmacy_id: int, start: date, end: date) -> tuple[int, int, float]:
    """(executed through ordonnance numérique, all dispensings with a prescription, share) over [start, end]."""
    with kernel.transaction() as session:
        low = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
        high = datetime.combine(end, datetime.max.time(), tzinfo=UTC)
        total = int(
            session.scalar(
                select(func.count(func.distinct(Dispensation.prescription_id))).where(
                    Dispensation.pharmacy_id == pharmacy_id, Dispensation.validated_at.between(low, high)
                )
            )
            or 0
        )
        numeric = int(
            session.scalar(
                select(func.count(func.distinct(Execution.prescription_id))).where(
                    Execution.pharmacy_id == pharmacy_id,
                    Execution.prescription_id.is_not(None),
                    Execution.status != "draft",
                    Execution.created_at.between(low, high),
                )
            )
            or 0
        )
    return numeric, total, (numeric / total if total else 0.0)
