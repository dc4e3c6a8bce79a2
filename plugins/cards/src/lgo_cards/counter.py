"""The carte Vitale at the counter: its beneficiaries become patient choices, and INSi is searched with the card.

The INSi call goes through the ``ins`` plugin's client and settings when that plugin is installed (imported
lazily: ``ins`` does not know about ``cards``); its answer comes back as the same action as a search by traits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lgo.api import ActionRequired, Patient, traits
from sqlalchemy import select

from lgo_cards.errors import CardError
from lgo_cards.vitale import Beneficiary, VitaleCard

if TYPE_CHECKING:
    from lgo.api import Kernel


@dataclass(frozen=True)
class Candidate:
    """A beneficiary of the card and the patient files it matches (empty: a new patient to create)."""

    beneficiary: Beneficiary
    patient_ids: tuple[int, ...]


def candidates(kernel: Kernel, pharmacy_id: int, card: VitaleCard) -> list[Candidate]:
    """For each beneficiary: the patients already known with this card (NIR and rank), else with the same birth
    name, first name and birth date."""
    found = []
    with kernel.transaction() as session:
        for person in card.beneficiaries:
            by_card = session.scalars(
                select(Patient.id).where(
                    Patient.pharmacy_id == pharmacy_id,
                    Patient.vitale_nir == card.holder_nir,
                    Patient.vitale_rank == person.rank,
                    Patient.birth_date_text == person.birth_date,
                )
            ).all()
            if by_card:
                found.append(Candidate(person, tuple(by_card)))
                continue
            same_day = session.scalars(
                select(Patient).where(Patient.pharmacy_id == pharmacy_id, Patient.birth_date_text == person.birth_date)
            ).all()
            ids = tuple(
                p.id
                for p in same_day
                if traits.same_name(p.birth_name, person.birth_name)
                and traits.same_name(p.first_names.split(" ")[0], person.first_name.split(" ")[0])
            )
            found.append(Candidate(person, ids))
    return found


def remember_card(
    kernel: Kernel, pharmacy_id: int, patient_id: int, card: VitaleCard, beneficiary: Beneficiary
) -> None:
    """The pharmacist chose this patient for this beneficiary: keep the card's NIR and rank on the file."""
    with kernel.transaction() as session:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.pharmacy_id != pharmacy_id:
            raise CardError("Patient introuvable.", detail=f"patient {patient_id}")
        patient.vitale_nir, patient.vitale_rank = card.holder_nir, beneficiary.rank


def insi_search(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int | None,
    card: VitaleCard,
    beneficiary: Beneficiary,
    *,
    assertion: Any | None = None,
) -> list[ActionRequired]:
    """INSi ``rechercherInsAvecCarteVitale`` for this beneficiary; the answer as the ``ins`` plugin's action. In
    INSI-MANU mode the operator's assertion comes from their unlocked CPS unless ``assertion`` is given."""
    if not kernel.is_active(pharmacy_id, "ins"):
        return [
            ActionRequired(
                kind="cards.no_ins",
                plugin="cards",
                title_fr="Recherche INSi",
                message_fr="Le module INS n'est pas actif dans l'officine : pas de recherche INSi.",
                patient_id=patient_id,
            )
        ]
    from lgo_ins import api as ins_api  # declared optional in the manifest, active here

    return ins_api.search_with_vitale(
        kernel,
        pharmacy_id,
        patient_id,
        operator_id,
        nir=card.holder_nir,
        birth_date=beneficiary.birth_date,
        rank=beneficiary.rank,
        assertion=assertion,
    )
