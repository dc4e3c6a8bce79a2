"""The cards at the counter: ``F6`` reads the carte Vitale (PC/SC) and lists its beneficiaries, one key each;
choosing one selects the patient file (created from the card when there is none) and searches INSi with the card;
``F7`` takes the Appli carte Vitale's QR code typed by the scanner. Every card or reader problem is a French
message in the window or on the screen; the counter goes on."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    Choice,
    CounterShortcut,
    CounterWindow,
    Patient,
    create_patient,
    select_patient,
    traits,
)

from lgo_cards import counter
from lgo_cards.errors import CardError
from lgo_cards.vitale import Beneficiary, VitaleCard

if TYPE_CHECKING:
    from lgo.api import ActionAnswered, CounterCommand, Kernel

PLUGIN = "cards"
TEMPLATES = Path(__file__).parent / "counter_templates"
READ, BENEFICIARIES, APCV = "cards.read_vitale", "cards.beneficiaries", "cards.scan_apcv"


def windows() -> list[CounterWindow]:
    return [
        CounterWindow(
            BENEFICIARIES, "beneficiaries.html", TEMPLATES, keys_fr="1 à 9 : bénéficiaire ; Échap : plus tard"
        ),
        CounterWindow(APCV, "apcv.html", TEMPLATES, keys_fr="Scannez le QR code de l'appli carte Vitale, puis Entrée"),
    ]


def shortcuts() -> list[CounterShortcut]:
    return [
        CounterShortcut("F6", "Carte Vitale", READ),
        CounterShortcut("F7", "Appli carte Vitale", APCV),
    ]


def _settings(kernel: Kernel, pharmacy_id: int) -> Any:
    return kernel.plugin_settings(pharmacy_id, PLUGIN)


def command(kernel: Kernel, event: CounterCommand) -> list[ActionRequired]:
    if event.command == APCV:
        return [ActionRequired(APCV, PLUGIN, "Appli carte Vitale : scannez le QR code du patient")]
    from lgo_cards.vitale import read_vitale

    card = read_vitale(_settings(kernel, event.pharmacy_id).vitale_reader)
    found = counter.candidates(kernel, event.pharmacy_id, card)
    people = []
    with kernel.transaction() as session:
        for index, candidate in enumerate(found, start=1):
            person = candidate.beneficiary
            files = [session.get(Patient, pid) for pid in candidate.patient_ids]
            people.append(
                {
                    **asdict(person),
                    "index": index,
                    "birth_date_fr": "/".join(reversed(person.birth_date.split("-"))),
                    "files": [p.display_name for p in files if p is not None],
                    "patient_ids": list(candidate.patient_ids),
                }
            )
    return [
        ActionRequired(
            BENEFICIARIES,
            PLUGIN,
            "Carte Vitale : choisissez le bénéficiaire",
            f"Carte n° {card.serial}, ouvrant droit {card.holder_nir[:13]}.",
            choices=tuple(Choice(str(p["index"]), f"{p['birth_name']} {p['first_name']}") for p in people),
            data={"holder_nir": card.holder_nir, "serial": card.serial, "beneficiaries": people},
        )
    ]


def _sex(nir: str) -> str:
    return {"1": "M", "2": "F"}.get(nir[:1], "I")


def _birth_place(nir: str) -> str | None:
    code = nir[5:10] if len(nir) >= 10 else ""
    return code if traits.is_birth_place(code) else None


def _patient_for(kernel: Kernel, pharmacy_id: int, card: VitaleCard, person: dict[str, Any], operator_id: int) -> int:
    """The file chosen for the beneficiary: the one the card already points to, else a new one from the card."""
    if person["patient_ids"]:
        return int(person["patient_ids"][0])
    nir = person.get("nir") or (card.holder_nir if person["rank"] == 1 else "")
    with kernel.transaction() as session:
        patient = create_patient(
            session,
            pharmacy_id,
            birth_name=person["birth_name"],
            first_names=person["first_name"],
            used_name=person.get("used_name") or None,
            sex=_sex(nir),
            birth_date=person["birth_date"],
            birth_place_code=_birth_place(nir),
            vitale_nir=card.holder_nir,
            vitale_rank=int(person["rank"]),
        )
        kernel.audit(
            pharmacy_id,
            "patient.created",
            "Patient créé depuis la carte Vitale.",
            actor=PLUGIN,
            session=session,
            operator_id=operator_id,
            patient_id=patient.id,
            object_type="patient",
            object_id=patient.id,
        )
        return patient.id


def answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    if event.kind == APCV:
        return _apcv(kernel, event)
    if event.kind != BENEFICIARIES:
        return []
    people = list(event.data.get("beneficiaries", []))
    person = next((p for p in people if str(p["index"]) == event.choice), None)
    if person is None:
        raise CardError("Choisissez le bénéficiaire par son numéro.")
    card = VitaleCard(
        str(event.data["serial"]),
        str(event.data["holder_nir"]),
        tuple(
            Beneficiary(
                p["birth_name"],
                p["first_name"],
                p["birth_date"],
                int(p["rank"]),
                p.get("nir", ""),
                p.get("used_name", ""),
            )
            for p in people
        ),
    )
    beneficiary = card.beneficiaries[people.index(person)]
    patient_id = _patient_for(kernel, event.pharmacy_id, card, person, event.operator_id)
    counter.remember_card(kernel, event.pharmacy_id, patient_id, card, beneficiary)
    # INSi with the card (rechercherInsAvecCarteVitale) now; the selection that follows does not search again.
    found = counter.insi_search(kernel, event.pharmacy_id, patient_id, event.operator_id, card, beneficiary)
    return [select_patient(PLUGIN, patient_id, "vitale"), *found]


def _apcv(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    from lgo_cards import apcv

    scanned = apcv.clean(event.values.get("code", ""))
    identity = apcv.identify(apcv.endpoint(kernel, event.pharmacy_id), scanned)
    with kernel.transaction() as session:
        from sqlalchemy import select

        same_day = session.scalars(
            select(Patient).where(
                Patient.pharmacy_id == event.pharmacy_id, Patient.birth_date_text == identity.birth_date
            )
        ).all()
        known = [
            p.id
            for p in same_day
            if traits.same_name(p.birth_name, identity.birth_name)
            and traits.first_name_in(identity.first_names[0], p.first_names)
        ]
        if known:
            patient_id = known[0]
        else:
            patient_id = create_patient(
                session,
                event.pharmacy_id,
                birth_name=identity.birth_name,
                first_names=" ".join(identity.first_names),
                sex=identity.sex,
                birth_date=identity.birth_date,
                birth_place_code=identity.birth_place_code,
            ).id
    apcv.qualify(kernel, event.pharmacy_id, patient_id, event.operator_id, identity)
    return [select_patient(PLUGIN, patient_id, "appli_vitale")]
