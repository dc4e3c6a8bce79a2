"""The note de vaccination at the counter's screen (the Actipharm window of the seeds): vaccine, lot pre-filled from
the box scanned at billing, route, site, date and time, the vaccinator chosen among the pharmacy's pharmacists (the
préparateur who billed picks the pharmacist), act type, comment; validated in one key, then sent to the DMP through
the outbox (or kept until the identity is qualified: the INS window comes first)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lgo.api import CounterWindow, ValidationError

from lgo_vaccination import service

if TYPE_CHECKING:
    from lgo.api import ActionAnswered, ActionRequired, Kernel

TEMPLATES = Path(__file__).parent / "counter_templates"
PARIS = ZoneInfo("Europe/Paris")


def windows() -> list[CounterWindow]:
    return [
        CounterWindow(
            "vaccination.check_note",
            "check_note.html",
            TEMPLATES,
            keys_fr="Entrée : valider la note ; Tab : champ suivant ; Échap : plus tard",
        )
    ]


def _moment(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=PARIS)
    except ValueError:
        raise ValidationError(f"Date et heure de la vaccination invalides : « {text[:20]} ».") from None


def answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    if event.kind != "vaccination.check_note":
        return []
    note_id = int(event.data["note_id"])
    values = event.values
    raw = values.get("vaccinator_id", "").strip()
    if not raw:
        raise ValidationError("Choisissez le pharmacien vaccinateur.")
    try:
        vaccinator = int(raw)
    except ValueError:
        raise ValidationError("Vaccinateur inconnu : choisissez-le dans la liste.") from None
    service.update_note(
        kernel,
        event.pharmacy_id,
        note_id,
        route_code=values.get("route_code") or None,
        site_code=values.get("site_code") or None,
        act_type=values.get("act_type") or None,
        comment=values.get("comment", ""),
        lot_number=values.get("lot_number"),
        vaccinator_id=vaccinator,
        administered_at=_moment(values.get("administered_at", "")),
    )
    # The pharmacist named as vaccinator validates the note (the DMP needs a professional's RPPS); who typed it at the
    # counter (a préparateur, often) is in the audit log.
    kernel.audit(
        event.pharmacy_id,
        "vaccination.note_entered",
        "Note de vaccination saisie au comptoir et validée au nom du pharmacien vaccinateur.",
        actor="vaccination",
        operator_id=event.operator_id,
        patient_id=event.patient_id,
        object_type="vaccination_note",
        object_id=note_id,
        details={"vaccinator_id": vaccinator},
    )
    return service.validate_note(kernel, event.pharmacy_id, note_id, vaccinator)
