"""The INS at the counter's screen: the windows of the INS actions, the answers that come back, the banner panel
(identity status with its colour, last INSi call) and the state of INSi for the status bar.

The windows are Jinja templates (``counter_templates/``); the answers arrive as :class:`lgo.api.ActionAnswered`
events: accept or refuse the identity INSi returned, the identity document checked (or « aucune pièce présentée »,
asked again at the next dispensings), all recorded through this plugin's published API.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from lgo.api import (
    ActionRequired,
    AuditEntry,
    CounterPanel,
    CounterShortcut,
    CounterWindow,
    Patient,
    ServiceStatus,
    ValidationError,
    create_patient,
    outbox,
    select_patient,
    traits,
)
from sqlalchemy import func, select

from lgo_ins import api
from lgo_ins.model import Status

if TYPE_CHECKING:
    from lgo.api import ActionAnswered, CounterCommand, CounterView, Kernel, ServiceState

TEMPLATES = Path(__file__).parent / "counter_templates"
PARIS = ZoneInfo("Europe/Paris")


def _reprompts(kernel: Kernel, pharmacy_id: int) -> int:
    """How many more dispensings ask again after « aucune pièce présentée » (setting, 3 by default as the vendors)."""
    return int(getattr(kernel.plugin_settings(pharmacy_id, api.PLUGIN), "reprompt_count", 3))


DOCUMENT_KEYS = (
    ("1", api.DocumentKind.CNI),
    ("2", api.DocumentKind.PASSEPORT),
    ("3", api.DocumentKind.TITRE_SEJOUR),
)
ANSWER_KEYS = (
    ("4", api.DocumentAnswer.NONE_PRESENTED),
    ("5", api.DocumentAnswer.REFUSED),
    ("6", api.DocumentAnswer.DIFFERENT),
)
TONES: dict[Status, Literal["info", "ok", "warning", "error"]] = {
    Status.PROVISOIRE: "error",
    Status.RECUPEREE: "warning",
    Status.VALIDEE: "info",
    Status.QUALIFIEE: "ok",
}
TRAITS_FR = (
    ("birth_name", "Nom de naissance"),
    ("first_names", "Prénom(s) de naissance"),
    ("sex", "Sexe"),
    ("birth_date", "Date de naissance"),
    ("birth_place_code", "Lieu de naissance (INSEE)"),
)


def windows() -> list[CounterWindow]:
    keys = "1 à 3 : pièce vérifiée (accepte l'identité) ; 4 à 6 : sans pièce ; R : refuser ; Échap : plus tard"
    return [
        CounterWindow("ins.insi_result", "insi_result.html", TEMPLATES, keys_fr=keys),
        CounterWindow("ins.qualify", "qualify.html", TEMPLATES, keys_fr="1 à 3 : pièce vérifiée ; 4 à 6 : sans pièce"),
        CounterWindow(DATAMATRIX, "datamatrix.html", TEMPLATES, keys_fr="Scannez le Datamatrix INS, puis Entrée"),
    ]


DATAMATRIX = "ins.scan_datamatrix"


def shortcuts() -> list[CounterShortcut]:
    return [CounterShortcut("Alt+I", "Datamatrix INS", DATAMATRIX)]


def command(kernel: Kernel, event: CounterCommand) -> list[ActionRequired]:
    return [ActionRequired(DATAMATRIX, api.PLUGIN, "Datamatrix INS : scannez le code du document")]


def _scanned(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    """The patient of a scanned INS Datamatrix: found by birth name, first name and date, else created with its
    traits; selecting them searches INSi (the Datamatrix alone never qualifies an identity)."""
    from lgo_ins import datamatrix

    found = datamatrix.parse(event.values.get("code", "").strip("\r\n"))
    with kernel.transaction() as session:
        same_day = session.scalars(
            select(Patient).where(Patient.pharmacy_id == event.pharmacy_id, Patient.birth_date_text == found.birth_date)
        ).all()
        known = [
            p.id
            for p in same_day
            if traits.same_name(p.birth_name, found.birth_name)
            and traits.first_name_in(found.first_names.split(" ")[0], p.first_names)
        ]
        patient_id = known[0] if known else None
        if patient_id is None:
            patient_id = create_patient(
                session,
                event.pharmacy_id,
                birth_name=found.birth_name,
                first_names=found.first_names,
                sex=found.sex,
                birth_date=found.birth_date,
                birth_place_code=found.birth_place_code,
            ).id
    return [select_patient(api.PLUGIN, patient_id, "datamatrix_ins")]


def answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    if event.kind == DATAMATRIX:
        return _scanned(kernel, event)
    if event.patient_id is None:
        return []
    choice = event.choice
    documents = dict(DOCUMENT_KEYS)
    answers = dict(ANSWER_KEYS)
    if event.kind == "ins.insi_result":
        if choice == "refuse":
            kernel.audit(
                event.pharmacy_id,
                "ins.insi_refused_by_pharmacist",
                "Identité INSi refusée par le pharmacien (ce n'est pas ce patient) : rien n'est enregistré.",
                actor=api.PLUGIN,
                operator_id=event.operator_id,
                patient_id=event.patient_id,
            )
            return []
        if choice not in documents and choice not in answers and choice != "accept":
            raise ValidationError("Choisissez la pièce d'identité présentée (1 à 6) ou refusez l'identité (R).")
        from lgo_ins.counter import accept

        accept(kernel, event.pharmacy_id, event.patient_id, event.operator_id, dict(event.data["identity"]))
    elif event.kind != "ins.qualify" or (choice not in documents and choice not in answers):
        raise ValidationError("Choisissez la pièce d'identité présentée (1 à 6).")
    if choice in documents:
        api.record_identity_document(kernel, event.pharmacy_id, event.patient_id, event.operator_id, documents[choice])
    elif choice in answers:
        api.record_document_answer(
            kernel,
            event.pharmacy_id,
            event.patient_id,
            event.operator_id,
            answers[choice],
            reprompts=_reprompts(kernel, event.pharmacy_id),
        )
    return []


def panels(kernel: Kernel, view: CounterView) -> list[CounterPanel]:
    if view.patient_id is None:
        return []
    with kernel.transaction() as session:
        row = api.identity_of(session, view.pharmacy_id, view.patient_id)
        status = row.status if row else Status.PROVISOIRE
        last_call = session.scalar(
            select(func.max(AuditEntry.at)).where(
                AuditEntry.pharmacy_id == view.pharmacy_id,
                AuditEntry.patient_id == view.patient_id,
                AuditEntry.action == "ins.insi_call",
            )
        )
        lines = [f"Identité {status.value}"]
        if row is not None and row.matricule and status in (Status.RECUPEREE, Status.QUALIFIEE):
            lines.append(f"INS {row.matricule}")
        lines.append(
            f"Dernier appel INSi : {last_call.astimezone(PARIS):%d/%m/%Y %H:%M}" if last_call else "Aucun appel INSi"
        )
        if row is not None and row.document_kind:
            lines.append(f"Justificatif : {row.document_kind}")
        elif row is not None and row.document_note:
            lines.append(
                f"Pièce : {row.document_note}"
                + (f" (redemandée encore {row.prompts_left} fois)" if row.prompts_left else "")
            )
    return [CounterPanel("banner", "Identité nationale de santé", tuple(lines), TONES[status])]


def service_status(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[ServiceStatus]:
    """INSi: down when the last call failed, degraded while searches wait in the outbox, else OK."""
    from lgo_ins.counter import KIND_RETRY

    with kernel.transaction() as session:
        last = session.scalars(
            select(AuditEntry.message_fr)
            .where(AuditEntry.pharmacy_id == pharmacy_id, AuditEntry.action == "ins.insi_call")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).first()
        waiting = list(
            session.scalars(
                select(outbox.OutboxMessage.payload).where(
                    outbox.OutboxMessage.pharmacy_id == pharmacy_id,
                    outbox.OutboxMessage.kind == KIND_RETRY,
                    outbox.OutboxMessage.status.in_([outbox.OutboxStatus.PENDING, outbox.OutboxStatus.IN_FLIGHT]),
                )
            )
        )
    mine = sum(1 for payload in waiting if patient_id is not None and payload.get("patient_id") == patient_id)
    state: ServiceState
    if last is None:
        state, detail = "unknown", ""
    elif "indisponible" in last:
        state, detail = "down", "le dernier appel n'a pas abouti"
    elif waiting:
        state, detail = "degraded", f"{len(waiting)} recherche(s) à relancer"
    else:
        state, detail = "ok", ""
    if waiting and state == "down":
        detail += f" ; {len(waiting)} recherche(s) en file pour un nouvel essai"
    return [ServiceStatus("insi", "INSi", state, detail, waiting_for_patient=mine)]
