"""Mon bilan prévention at the counter's screen: a key from the patient's banner (``Alt+B``) opens the bilan of the
patient's age band (refused in French outside the bands, or with the date of the first bilan of the band), then one
window per step, each calling this plugin's service functions:

the band's guided themes (what was said on each) → the plan personnalisé de prévention written with the patient
(1 to 5 priorities: theme, objective, actions) → validation: RDP (and one other act the same day) billed, the plan
validated and queued for the DMP and the médecin traitant by MSSanté → the plan PDF to print.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    CounterPanel,
    CounterShortcut,
    CounterWindow,
    Patient,
    ValidationError,
    cda,
    get_scoped,
    is_identity_request,
    utcnow,
)

from lgo_prevention import bands, plan, service
from lgo_prevention.model import BilanStatus

if TYPE_CHECKING:
    from lgo.api import ActionAnswered, CounterCommand, CounterView, Kernel

TEMPLATES = Path(__file__).parent / "counter_templates"
COMMAND = "prevention.bilan"
INTERVIEW = "prevention.interview"
PLAN = "prevention.plan"
VALIDATE = "prevention.validate"
DONE = "prevention.done"
#: What a theme left empty says when the pharmacist presses « rien à signaler » (decision 1204).
NOTHING_TO_REPORT = "Rien à signaler."


def windows() -> list[CounterWindow]:
    return [
        CounterWindow(
            INTERVIEW,
            "interview.html",
            TEMPLATES,
            keys_fr="Tab : thème suivant ; Entrée : enregistrer ; Alt+R : « rien à signaler » pour les thèmes vides",
        ),
        CounterWindow(
            PLAN,
            "plan.html",
            TEMPLATES,
            keys_fr="Dans la liste, les premières lettres du thème ; Tab : objectif, actions ; Entrée : enregistrer",
        ),
        CounterWindow(VALIDATE, "validate.html", TEMPLATES, keys_fr="Entrée : facturer et valider le plan"),
        CounterWindow(DONE, "done.html", TEMPLATES, keys_fr="I : imprimer le plan ; Entrée : fermer"),
    ]


def shortcuts() -> list[CounterShortcut]:
    return [CounterShortcut("Alt+B", "Bilan prévention", COMMAND, needs_patient=True)]


def command(kernel: Kernel, event: CounterCommand) -> list[ActionRequired]:
    if event.patient_id is None:
        raise ValidationError("Sélectionnez d'abord le patient (F2), puis Alt+B pour son bilan prévention.")
    bilan_id = service.start_bilan(kernel, event.pharmacy_id, event.patient_id, event.operator_id)
    return [interview(kernel, event.pharmacy_id, bilan_id, event.patient_id)]


def panels(kernel: Kernel, view: CounterView) -> list[CounterPanel]:
    """In the banner, for a patient of an age band: the bilan to offer, or when it was done."""
    if view.patient_id is None or not kernel.is_active(view.pharmacy_id, service.PLUGIN):
        return []
    with kernel.transaction() as session:
        patient = get_scoped(session, Patient, view.patient_id, view.pharmacy_id, "patient")
        try:
            band = bands.band_for(patient.birth_date, cda.local(utcnow()).date())
        except ValidationError:  # outside the bands, or uncertain: nothing to offer
            return []
        previous = service.previous_in_band(session, view.pharmacy_id, view.patient_id, band.code)
        if previous is None:
            return [
                CounterPanel(
                    "banner",
                    "Mon bilan prévention",
                    (f"Tranche {band.label_fr} : bilan à proposer.",),
                    key_hint_fr="Alt+B : bilan prévention",
                )
            ]
        return [
            CounterPanel(
                "banner",
                "Mon bilan prévention",
                (f"Tranche {band.label_fr} : réalisé le {previous.held_on:%d/%m/%Y} ({previous.status.label_fr}).",),
                tone="ok",
            )
        ]


# --- the windows' actions, rebuilt from the database -------------------------------------------------------


def _bilan(kernel: Kernel, pharmacy_id: int, bilan_id: int) -> dict[str, Any]:
    with kernel.transaction() as session:
        bilan = service.get_bilan(session, pharmacy_id, bilan_id)
        return {
            "bilan_id": bilan.id,
            "band": bilan.band,
            "band_fr": bands.BANDS[bilan.band].label_fr,
            "held_on": bilan.held_on.strftime("%d/%m/%Y"),
            "notes": dict(bilan.notes),
            "plan": [dict(p) for p in bilan.plan],
            "physician_name": bilan.physician_name or "",
            "physician_mssante": bilan.physician_mssante or "",
        }


def _themes(band: str) -> list[dict[str, str]]:
    return [{"code": t.code, "label": t.label_fr, "prompt": t.prompt_fr} for t in service.themes(band)]


def interview(kernel: Kernel, pharmacy_id: int, bilan_id: int, patient_id: int | None) -> ActionRequired:
    data = _bilan(kernel, pharmacy_id, bilan_id) | {"themes": _themes(_bilan(kernel, pharmacy_id, bilan_id)["band"])}
    return ActionRequired(
        INTERVIEW,
        service.PLUGIN,
        f"Mon bilan prévention ({data['band_fr']}) : l'entretien",
        "Parcourez chaque thème avec le patient et notez ce qui est dit.",
        patient_id=patient_id,
        data=data,
    )


def _plan(kernel: Kernel, pharmacy_id: int, bilan_id: int, patient_id: int | None) -> ActionRequired:
    data = _bilan(kernel, pharmacy_id, bilan_id)
    data["themes"] = _themes(data["band"])
    data["rows"] = list(range(1, service.MAX_PRIORITIES + 1))
    return ActionRequired(
        PLAN,
        service.PLUGIN,
        "Plan personnalisé de prévention",
        "Écrivez avec le patient ses priorités (1 à 5) : le thème, l'objectif qu'il se donne et comment l'atteindre.",
        patient_id=patient_id,
        data=data,
    )


def _validation(kernel: Kernel, pharmacy_id: int, bilan_id: int, patient_id: int | None) -> ActionRequired:
    data = _bilan(kernel, pharmacy_id, bilan_id)
    labels = {t.code: t.label_fr for t in bands.THEMES.values()}
    data["priorities"] = [[labels[p["theme"]], p["objective"], p["actions"]] for p in data["plan"]]
    act = next(a for a in bands.ACTS if a.code == bands.RDP)
    data["act"] = f"{act.code} — {act.label_fr}"
    data["other_acts"] = [[code, _act_label(kernel, code)] for code in bands.SAME_DAY_ACTS if code in kernel.acts]
    return ActionRequired(
        VALIDATE,
        service.PLUGIN,
        "Mon bilan prévention : vérifier et valider",
        patient_id=patient_id,
        data=data,
    )


def _act_label(kernel: Kernel, code: str) -> str:
    act = kernel.acts.get(code)
    return f"{code} — {act.label_fr}" if act else code


# --- answers ------------------------------------------------------------------------------------------------


def answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    if not event.kind.startswith(f"{service.PLUGIN}.") or event.patient_id is None or event.kind == DONE:
        return []
    pharmacy, values, patient = event.pharmacy_id, event.values, event.patient_id
    bilan_id = int(event.data["bilan_id"])
    if event.kind == INTERVIEW:
        notes = {t["code"]: values.get(f"theme_{t['code']}", "") for t in event.data["themes"]}
        if event.choice == "nothing_else":
            notes = {code: text if text.strip() else NOTHING_TO_REPORT for code, text in notes.items()}
        service.record_interview(kernel, pharmacy, bilan_id, notes)
        return [_plan(kernel, pharmacy, bilan_id, patient)]
    if event.kind == PLAN:
        priorities = []
        for row in event.data["rows"]:
            theme, objective, actions = (
                values.get(f"{field}_{row}", "").strip() for field in ("theme", "objective", "actions")
            )
            if theme or objective or actions:
                if not theme:
                    raise ValidationError(f"Priorité {row} : choisissez son thème.")
                priorities.append(service.Priority(theme, objective, actions))
        service.set_plan(kernel, pharmacy, bilan_id, priorities)
        return [_validation(kernel, pharmacy, bilan_id, patient)]
    if event.kind == VALIDATE:
        return _validate(kernel, event, bilan_id)
    return []


def _validate(kernel: Kernel, event: ActionAnswered, bilan_id: int) -> list[ActionRequired]:
    pharmacy, values = event.pharmacy_id, event.values
    name = values.get("physician_name", "").strip()
    if name:
        service.set_physician(
            kernel, pharmacy, bilan_id, service.Physician(name, values.get("physician_mssante", "").strip() or None)
        )
    with kernel.transaction() as session:
        status = service.get_bilan(session, pharmacy, bilan_id).status
    summary = ""
    if status == BilanStatus.OPEN:  # billed once: a retry after a refused validation does not bill again
        other = values.get("other_act", "").strip() or None
        summary = service.bill(kernel, pharmacy, bilan_id, event.operator_id, additional_act=other).summary_fr
    following = plan.validate(kernel, pharmacy, bilan_id, event.operator_id)
    with kernel.transaction() as session:
        physician = service.get_bilan(session, pharmacy, bilan_id).physician_status_fr
    if any(is_identity_request(a) for a in following):
        message = (
            "Le plan attend la qualification de l'identité du patient, puis partira au DMP et au médecin traitant."
        )
    else:
        dmp = "en file d'envoi vers le DMP" if kernel.is_active(pharmacy, "dmp") else "module DMP non actif"
        message = f"Plan validé, {dmp}. Médecin traitant : {physician or '—'}."
    done = ActionRequired(
        DONE,
        service.PLUGIN,
        "Mon bilan prévention validé",
        message,
        patient_id=event.patient_id,
        data={"bilan_id": bilan_id, "summary": summary},
    )
    return [done, *following]
