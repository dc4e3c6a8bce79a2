"""Mon bilan prévention at the pharmacy, from the interview to its billing.

1. :func:`start_bilan` — the patient's age band on the day (18–25, 45–50, 60–65, 70–75); a second bilan in the same
   band is refused with the date of the first.
2. :func:`record_interview` — what was said on each theme of the band (:mod:`lgo_prevention.bands`);
   :func:`set_plan` — the plan personnalisé de prévention written with the patient: priorities, objectives, actions.
3. :func:`bill` — the act RDP (30 €, 31,50 € in the DROM) and at most one other act the same day: a vaccination
   (RVA, VGP, declared by the vaccination plugin) or the colorectal screening kit (RKD, 50 to 74 years old).

Then :mod:`lgo_prevention.plan` writes the PPP, validates it and sends it to the DMP and the médecin traitant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from lgo.api import (
    Counter,
    Operator,
    Patient,
    ValidationError,
    acting_pharmacist,
    cda,
    documents,
    get_scoped,
    utcnow,
)
from lgo.api import audit as journal
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_prevention import bands
from lgo_prevention.model import Bilan, BilanStatus

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "prevention"
_MAX_TEXT = 4000
MAX_PRIORITIES = 5


@dataclass(frozen=True)
class Physician:
    """The médecin traitant, who receives the plan by MSSanté."""

    name: str
    mssante: str | None = None


@dataclass(frozen=True)
class Priority:
    """One priority of the plan: the theme, what the patient aims at, and how."""

    theme: str
    objective: str
    actions: str


@dataclass(frozen=True)
class Billed:
    invoice_id: int
    summary_fr: str


def pharmacist(session: Session, pharmacy_id: int, operator_id: int) -> Operator:
    return acting_pharmacist(
        session,
        pharmacy_id,
        operator_id,
        "Le bilan prévention est conduit et validé par un pharmacien identifié par son numéro RPPS.",
    )


def audit(session: Session, bilan: Bilan, action: str, message: str, operator_id: int) -> None:
    journal.record_about(session, bilan, f"prevention.{action}", message, actor=PLUGIN, operator_id=operator_id)


def get_bilan(session: Session, pharmacy_id: int, bilan_id: int) -> Bilan:
    return get_scoped(session, Bilan, bilan_id, pharmacy_id, "bilan prévention")


def _open(session: Session, pharmacy_id: int, bilan_id: int) -> Bilan:
    return documents.editable(get_bilan(session, pharmacy_id, bilan_id), BilanStatus.OPEN, "bilan")


def _text(value: str, what: str) -> str:
    text = "\n".join(" ".join(line.split()) for line in str(value).strip().splitlines())
    if len(text) > _MAX_TEXT:
        raise ValidationError(f"{what} est trop long ({len(text)} caractères, {_MAX_TEXT} au plus).")
    return text


def previous_in_band(session: Session, pharmacy_id: int, patient_id: int, band: str) -> Bilan | None:
    """The bilan already billed for this patient in this band, if any (once per person and per band)."""
    return session.scalars(
        select(Bilan)
        .where(
            Bilan.pharmacy_id == pharmacy_id,
            Bilan.patient_id == patient_id,
            Bilan.band == band,
            Bilan.status.in_([BilanStatus.BILLED, BilanStatus.WAITING_IDENTITY, BilanStatus.VALIDATED]),
        )
        .order_by(Bilan.held_on)
        .limit(1)
    ).first()


def _once_per_band(session: Session, pharmacy_id: int, patient_id: int, band: bands.Band) -> None:
    previous = previous_in_band(session, pharmacy_id, patient_id, band.code)
    if previous is not None:
        raise ValidationError(
            f"Un bilan prévention a déjà été réalisé le {previous.held_on:%d/%m/%Y} pour la tranche "
            f"{band.label_fr} : un seul bilan par personne et par tranche d'âge.",
            detail=f"bilan {previous.id}",
        )


def start_bilan(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int,
    *,
    held_on: date | None = None,
    physician: Physician | None = None,
) -> int:
    """Open the bilan of the patient's age band (refused outside the bands, or when already done in this band)."""
    kernel.require_active(pharmacy_id, PLUGIN)
    day = held_on or cda.local(utcnow()).date()
    if day > cda.local(utcnow()).date():
        raise ValidationError("La date du bilan ne peut pas être dans le futur.")
    with kernel.transaction() as session:
        pharmacist(session, pharmacy_id, operator_id)
        patient = get_scoped(session, Patient, patient_id, pharmacy_id, "patient")
        band = bands.band_for(patient.birth_date, day)
        _once_per_band(session, pharmacy_id, patient_id, band)
        bilan = Bilan(
            pharmacy_id=pharmacy_id,
            patient_id=patient_id,
            operator_id=operator_id,
            band=band.code,
            held_on=day,
            status=BilanStatus.OPEN,
            notes={},
            plan=[],
            physician_status_fr="",
        )
        if physician is not None:
            set_physician_on(bilan, physician)
        else:
            known = Bilan.last_of_patient(session, pharmacy_id, patient_id, Bilan.physician_name.is_not(None))
            if known is not None:
                bilan.physician_name, bilan.physician_mssante = known.physician_name, known.physician_mssante
        session.add(bilan)
        session.flush()
        audit(session, bilan, "started", f"Mon bilan prévention commencé (tranche {band.label_fr}).", operator_id)
        return bilan.id


def set_physician_on(bilan: Bilan, physician: Physician) -> None:
    name = " ".join(physician.name.split())
    address = (physician.mssante or "").strip().lower() or None
    if not name or len(name) > 200:
        raise ValidationError("Nom du médecin traitant invalide (de 1 à 200 caractères).")
    if address and ("@" not in address or " " in address or len(address) > 200):
        raise ValidationError(f"Adresse MSSanté du médecin traitant invalide : « {physician.mssante} ».")
    bilan.physician_name, bilan.physician_mssante = name, address


def set_physician(kernel: Kernel, pharmacy_id: int, bilan_id: int, physician: Physician) -> None:
    with kernel.transaction() as session:
        set_physician_on(get_bilan(session, pharmacy_id, bilan_id), physician)


def themes(band: str) -> list[bands.Theme]:
    """The interview's themes for an age band, in order."""
    found = bands.BANDS.get(band)
    if found is None:
        raise ValidationError(f"Tranche d'âge inconnue : « {band} » ({', '.join(bands.BANDS)}).")
    return [bands.THEMES[code] for code in found.themes]


def record_interview(kernel: Kernel, pharmacy_id: int, bilan_id: int, notes: Mapping[str, str]) -> None:
    """What was said on each theme of the band (all of them: « rien à signaler » is an answer)."""
    with kernel.transaction() as session:
        bilan = _open(session, pharmacy_id, bilan_id)
        expected = bands.BANDS[bilan.band].themes
        unknown = sorted(set(notes) - set(expected))
        if unknown:
            raise ValidationError(f"Thème hors de la tranche {bilan.band} ans : {', '.join(unknown)}.")
        cleaned = {code: _text(notes.get(code, ""), f"Le thème « {bands.THEMES[code].label_fr} »") for code in expected}
        missing = [bands.THEMES[code].label_fr for code, text in cleaned.items() if not text]
        if missing:
            raise ValidationError("Thèmes non abordés : " + ", ".join(missing) + " (écrivez « rien à signaler »).")
        bilan.notes = cleaned


def set_plan(kernel: Kernel, pharmacy_id: int, bilan_id: int, priorities: Sequence[Priority]) -> None:
    """The plan personnalisé de prévention written with the patient: 1 to 5 priorities on the band's themes."""
    with kernel.transaction() as session:
        bilan = _open(session, pharmacy_id, bilan_id)
        if not bilan.notes:
            raise ValidationError("Menez d'abord l'entretien (les thèmes de la tranche d'âge).")
        if not 1 <= len(priorities) <= MAX_PRIORITIES:
            raise ValidationError(f"Le plan compte de 1 à {MAX_PRIORITIES} priorités ({len(priorities)} données).")
        plan: list[dict[str, Any]] = []
        for priority in priorities:
            if priority.theme not in bands.BANDS[bilan.band].themes:
                raise ValidationError(f"Thème de priorité inconnu pour cette tranche : « {priority.theme} ».")
            objective = _text(priority.objective, "L'objectif")
            actions = _text(priority.actions, "Les actions")
            if not objective or not actions:
                raise ValidationError("Chaque priorité du plan a un objectif et des actions.")
            plan.append({"theme": priority.theme, "objective": objective, "actions": actions})
        bilan.plan = plan


def bill(
    kernel: Kernel, pharmacy_id: int, bilan_id: int, operator_id: int, *, additional_act: str | None = None
) -> Billed:
    """Bill RDP and, when given, the one other act of the same day (RVA, VGP or RKD)."""
    other = additional_act.strip().upper() if additional_act else None
    if other is not None and other not in bands.SAME_DAY_ACTS:
        raise ValidationError(
            f"Avec le bilan prévention, un seul autre acte le même jour : vaccination (RVA, VGP) ou remise du kit de "
            f"dépistage du cancer colorectal (RKD) ; « {additional_act} » n'en est pas un."
        )
    with kernel.transaction() as session:
        bilan = _open(session, pharmacy_id, bilan_id)
        if not bilan.plan:
            raise ValidationError("Écrivez d'abord le plan personnalisé de prévention avec le patient.")
        patient = get_scoped(session, Patient, bilan.patient_id, pharmacy_id, "patient")
        _once_per_band(session, pharmacy_id, bilan.patient_id, bands.BANDS[bilan.band])
        if other == bands.KIT:
            youngest, oldest = patient.birth_date.ages_on(bilan.held_on)
            low, high = bands.KIT_AGES
            if youngest < low or oldest > high:
                raise ValidationError(f"Le kit de dépistage du cancer colorectal est remis de {low} à {high} ans.")
        patient_id = bilan.patient_id
    counter = Counter(kernel, pharmacy_id, operator_id)
    billing = counter.start_billing(patient_id=patient_id)
    counter.add_act(billing, bands.RDP)
    if other is not None:
        counter.add_act(billing, other)
    result = counter.end_billing(billing)
    with kernel.transaction() as session:
        bilan = get_bilan(session, pharmacy_id, bilan_id)
        bilan.invoice_id, bilan.additional_act, bilan.status = result.invoice_id, other, BilanStatus.BILLED
        audit(session, bilan, "billed", f"Mon bilan prévention facturé : {result.summary_fr()}.", operator_id)
    return Billed(result.invoice_id, result.summary_fr())


@dataclass(frozen=True)
class BilanLine:
    bilan_id: int
    patient_id: int
    held_on: date
    band_fr: str
    status_fr: str
    physician_fr: str


def bilans(kernel: Kernel, pharmacy_id: int, patient_id: int | None = None) -> list[BilanLine]:
    with kernel.transaction() as session:
        return [
            BilanLine(
                b.id,
                b.patient_id,
                b.held_on,
                bands.BANDS[b.band].label_fr,
                b.status.label_fr,
                b.physician_status_fr or "—",
            )
            for b in Bilan.of_pharmacy(session, pharmacy_id, patient_id)
        ]
