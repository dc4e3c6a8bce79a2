"""The TROD at the counter's screen: a key from the patient's banner (``Alt+T``), then one window per step, each
calling this plugin's service functions (no rule lives in the windows):

choose the test (with the patient's consent) → the eligibility questionnaire (a refusal shows its reasons) → the
device, its GS1 DataMatrix scanned into the field (or typed) → the result → when positive and eligible, the
protocol's antibiotic (molecule, box, posology and duration) → validation: the act and the antibiotic billed on the
protocol's prescription (:func:`lgo_depistage.service.finish`), the attestation and the dispensation validated and
queued for the DMP (:func:`lgo_depistage.attestations.validate`) → the attestation PDF to print.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    CounterPanel,
    CounterShortcut,
    CounterWindow,
    LgoError,
    Product,
    ValidationError,
    gs1,
    is_identity_request,
)
from sqlalchemy import select

from lgo_depistage import antibiotics, attestations, codes, protocols, service
from lgo_depistage.model import DepistageTest, TrodStatus
from lgo_depistage.records import (
    PLUGIN,
    Physician,
    get_test,
    local_day,
    open_test,
    patient_of,
    pharmacist,
    treatment_of,
)

if TYPE_CHECKING:
    from lgo.api import ActionAnswered, CounterCommand, CounterView, Kernel

TEMPLATES = Path(__file__).parent / "counter_templates"
COMMAND = "depistage.trod"
CHOOSE = "depistage.choose"
QUESTIONNAIRE = "depistage.questionnaire"
DEVICE = "depistage.device"
RESULT = "depistage.result"
ANTIBIOTIC = "depistage.antibiotic"
VALIDATE = "depistage.validate"
DONE = "depistage.done"
#: The tests in the order of their keys (1 to 5).
ORDER = ("angine", "cystite", "grippe", "covid", "covid_grippe")
#: Keys of the yes/no questions (letters; digits stay for choices). Enough for the longest questionnaire.
QUESTION_KEYS = "ABCDEFGHJKLMNQSTUVWXYZ"


def windows() -> list[CounterWindow]:
    return [
        CounterWindow(
            CHOOSE, "choose.html", TEMPLATES, keys_fr="Espace : consentement ; 1 à 5 : le test ; R : reprendre"
        ),
        CounterWindow(
            QUESTIONNAIRE,
            "questionnaire.html",
            TEMPLATES,
            keys_fr="Température puis Tab ; la lettre d'une question la coche (oui) ; Entrée : enregistrer",
        ),
        CounterWindow(DEVICE, "device.html", TEMPLATES, keys_fr="Scannez le DataMatrix du test (ou saisissez-le)"),
        CounterWindow(
            RESULT,
            "result.html",
            TEMPLATES,
            keys_fr="Dans chaque liste : P positif, N négatif, I indéterminé, É échantillon insatisfaisant ; "
            "Tab ; Entrée",
        ),
        CounterWindow(
            ANTIBIOTIC, "antibiotic.html", TEMPLATES, keys_fr="1 à 9 : l'antibiotique délivré ; 0 : aucun (orientation)"
        ),
        CounterWindow(VALIDATE, "validate.html", TEMPLATES, keys_fr="Entrée : facturer et valider l'attestation"),
        CounterWindow(DONE, "done.html", TEMPLATES, keys_fr="I : imprimer l'attestation ; Entrée : fermer"),
    ]


def shortcuts() -> list[CounterShortcut]:
    return [CounterShortcut("Alt+T", "TROD", COMMAND, needs_patient=True)]


def command(kernel: Kernel, event: CounterCommand) -> list[ActionRequired]:
    if event.patient_id is None:
        raise ValidationError("Sélectionnez d'abord le patient (F2), puis Alt+T pour un TROD.")
    kernel.require_active(event.pharmacy_id, PLUGIN)
    with kernel.transaction() as session:
        pharmacist(session, event.pharmacy_id, event.operator_id)  # a préparateur is told at once, in French
        unfinished = DepistageTest.last_of_patient(
            session, event.pharmacy_id, event.patient_id, DepistageTest.status == TrodStatus.OPEN
        )
        resume = [unfinished.id, codes.kind(unfinished.kind).label_fr] if unfinished else None
    return [
        ActionRequired(
            CHOOSE,
            PLUGIN,
            "TROD : choisissez le test",
            "Le patient (ou son représentant légal) doit consentir au test.",
            patient_id=event.patient_id,
            data={
                "kinds": [[str(i + 1), code, codes.KINDS[code].label_fr] for i, code in enumerate(ORDER)],
                "resume": resume,
            },
        )
    ]


def resume(kernel: Kernel, pharmacy_id: int, test_id: int, patient_id: int | None) -> ActionRequired:
    """The window of the step where a test left for later (Échap) stopped."""
    with kernel.transaction() as session:
        test = open_test(session, pharmacy_id, test_id)
        kind, eligible, reasons = test.kind, test.eligible, tuple(test.reasons)
        has_device, positive, chosen = bool(test.device_lot or test.device_udi), test.positive, test.antibiotic
    if eligible is None:
        return questionnaire(test_id, kind, patient_id)
    if not has_device:
        return _device(test_id, protocols.Eligibility(eligible, reasons), patient_id)
    if positive is None:
        return _result(kernel, pharmacy_id, test_id, patient_id)
    outcome = service.outcome(kernel, pharmacy_id, test_id)
    if outcome.antibiotics and chosen is None:
        return _antibiotic(kernel, pharmacy_id, test_id, outcome, patient_id)
    return validation(kernel, pharmacy_id, test_id, patient_id)


def panels(kernel: Kernel, view: CounterView) -> list[CounterPanel]:
    """The patient's last tests in the banner, with where the attestation stands."""
    if view.patient_id is None or not kernel.is_active(view.pharmacy_id, PLUGIN):
        return []
    lines = service.tests_for_patient(kernel, view.pharmacy_id, view.patient_id)[:3]
    if not lines:
        return []
    return [
        CounterPanel(
            "banner",
            "TROD",
            tuple(_panel_line(line) for line in lines),
            key_hint_fr="Alt+T : nouveau TROD",
        )
    ]


def _panel_line(line: service.TrodLine) -> str:
    text = f"{line.kind_fr} : " + (f"{line.result_fr}, " if line.result_fr != "—" else "") + line.status_fr
    return text + (f" — {line.fallback_fr}" if line.fallback_fr != "—" else "")


# --- the windows' actions, rebuilt from the database -------------------------------------------------------


def _action(kind: str, title: str, patient_id: int | None, data: dict[str, Any], message: str = "") -> ActionRequired:
    return ActionRequired(kind, PLUGIN, title, message, patient_id=patient_id, data=data)


def questionnaire(test_id: int, kind: str, patient_id: int | None) -> ActionRequired:
    chosen = codes.kind(kind)
    letters = iter(QUESTION_KEYS)
    rows = [
        {
            "code": q.code,
            "label": q.label_fr,
            "kind": q.kind,
            "help": q.help_fr,
            "excludes": q.excludes,
            "key": next(letters) if q.kind == "oui_non" else "",
        }
        for q in service.questions(kind)
    ]
    return _action(
        QUESTIONNAIRE,
        f"{chosen.label_fr} : questionnaire d'éligibilité",
        patient_id,
        {"test_id": test_id, "questions": rows},
        "Cochez ce qui s'applique au patient (non coché : non).",
    )


def _device(test_id: int, eligibility: protocols.Eligibility, patient_id: int | None) -> ActionRequired:
    return _action(
        DEVICE,
        "TROD : le dispositif de test",
        patient_id,
        {
            "test_id": test_id,
            "eligible": eligibility.eligible,
            "indicated": eligibility.test_indicated,
            "reasons": list(eligibility.reasons_fr),
        },
    )


def _result(kernel: Kernel, pharmacy_id: int, test_id: int, patient_id: int | None) -> ActionRequired:
    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        kind = codes.kind(test.kind)
        device = f"UDI {test.device_udi}" if test.device_udi else f"lot {test.device_lot}"
    observations = [{"key": o.key, "label": o.label_fr} for o in kind.observations]
    results = [[r.name.lower(), r.label_fr] for r in codes.Result]
    return _action(
        RESULT,
        f"{kind.label_fr} : résultat",
        patient_id,
        {"test_id": test_id, "observations": observations, "results": results, "device": device},
    )


def _antibiotic(
    kernel: Kernel, pharmacy_id: int, test_id: int, outcome: service.Outcome, patient_id: int | None
) -> ActionRequired:
    """One numbered option per molecule of the protocol and box of the catalogue carrying its ATC code."""
    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        patient = patient_of(session, pharmacy_id, test.patient_id)
        youngest = patient.birth_date.ages_on(local_day(test.tested_at))[0]
        weight = test.answers.get("poids")
        options = []
        for chosen in outcome.antibiotics:
            try:
                posology = chosen.posology(youngest, float(weight) if weight is not None else None).text_fr
            except LgoError as exc:
                posology = exc.message_fr
            boxes = session.scalars(
                select(Product)
                .where(Product.pharmacy_id == pharmacy_id, Product.atc == chosen.atc)
                .order_by(Product.label)
            )
            for box in boxes:
                options.append(
                    {"antibiotic": chosen.code, "label": chosen.label_fr, "box": box.label, "cip13": box.cip13}
                    | {"posology": posology}
                )
    for index, option in enumerate(options[:9]):
        option["key"] = str(index + 1)
    return _action(
        ANTIBIOTIC,
        "TROD positif : antibiotique du protocole, sans ordonnance",
        patient_id,
        {
            "test_id": test_id,
            "options": options[:9],
            "molecules": [a.label_fr for a in outcome.antibiotics],
            "child": youngest < antibiotics.CHILD_UNTIL_AGE,
        },
    )


def validation(kernel: Kernel, pharmacy_id: int, test_id: int, patient_id: int | None) -> ActionRequired:
    """What will be billed and written on the attestation, for the pharmacist to check."""
    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        kind = codes.kind(test.kind)
        treatment = treatment_of(session, test)
        acts = [definition for definition in codes.ACTS if definition.code == kind.act_code]
        act_fr = ""
        if acts:
            act = acts[0]
            with_antibiotic = bool(test.antibiotic) and test.prescribed_on is None
            tariff = next((t for t in act.tariffs if t.name == codes.WITH_ANTIBIOTIC), None)
            label = tariff.label_fr if with_antibiotic and tariff else act.label_fr
            act_fr = f"{act.code} — {label}"
        data = {
            "test_id": test_id,
            "test": kind.label_fr,
            "results": [
                [o.label_fr, codes.Result(test.results[o.code]).label_fr]
                for o in kind.observations
                if o.code in test.results
            ],
            "device": f"UDI {test.device_udi}"
            if test.device_udi
            else f"{test.device_maker or ''} lot {test.device_lot}",
            "treatment": treatment,
            "orientation": test.orientation_fr,
            "reasons": list(test.reasons) if not test.antibiotic else [],
            "act": act_fr,
            "physician_name": test.physician_name or "",
            "physician_mssante": test.physician_mssante or "",
        }
    return _action(VALIDATE, "TROD : vérifier et valider", patient_id, data)


# --- answers ------------------------------------------------------------------------------------------------


def _day(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day, month, year = (int(part) for part in text.replace("-", "/").split("/"))
        return date(year if year > 99 else 2000 + year, month, day)
    except ValueError:
        raise ValidationError(f"{what} invalide : « {text[:20]} » (JJ/MM/AAAA).") from None


def _cip13(text: str) -> str:
    return gs1.scanned_cip13(text) or text.strip()


def _int(text: str, what: str, default: int) -> int:
    text = (text or "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise ValidationError(f"{what} : un nombre entier (« {text[:10]} »).")
    return int(text)


def _weight(text: str) -> float | None:
    """The child's weight typed in the antibiotic window (kg), checked as the questionnaire's."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        weight = float(text)
    except ValueError:
        weight = float("nan")
    if not protocols.WEIGHT_KG[0] <= weight <= protocols.WEIGHT_KG[1]:  # also refuses nan and inf
        raise ValidationError(f"Poids invalide : « {text[:10]} » (en kg, de 2 à 300).")
    return weight


def answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    if not event.kind.startswith(f"{PLUGIN}.") or event.patient_id is None:
        return []
    pharmacy, values, patient = event.pharmacy_id, event.values, event.patient_id
    if event.kind == CHOOSE and event.choice == "resume" and event.data.get("resume"):
        return [resume(kernel, pharmacy, int(event.data["resume"][0]), patient)]
    if event.kind == CHOOSE:
        test_id = service.start_test(
            kernel, pharmacy, patient, event.operator_id, event.choice, consent=values.get("consent") == "oui"
        )
        with kernel.transaction() as session:
            kind = get_test(session, pharmacy, test_id).kind
        return [questionnaire(test_id, kind, patient)]
    if event.kind == DONE:
        return []
    test_id = int(event.data["test_id"])
    if event.kind == QUESTIONNAIRE:
        answers: dict[str, Any] = {}
        for question in event.data["questions"]:
            code = question["code"]
            answers[code] = (
                ("oui" if values.get(code) else "non") if question["kind"] == "oui_non" else values.get(code)
            )
        return [_device(test_id, service.answer(kernel, pharmacy, test_id, answers), patient)]
    if event.kind == DEVICE:
        scan = values.get("scan", "").strip()
        if scan:
            service.set_device(kernel, pharmacy, test_id, scan=scan)
        else:
            service.set_device(
                kernel,
                pharmacy,
                test_id,
                gtin=values.get("gtin", "").strip() or None,
                lot=values.get("lot", ""),
                expiry=_day(values.get("expiry", ""), "Date de péremption"),
                maker=values.get("maker", ""),
                reference=values.get("reference", ""),
            )
        return [_result(kernel, pharmacy, test_id, patient)]
    if event.kind == RESULT:
        results = {o["key"]: values.get(o["key"], "") for o in event.data["observations"]}
        missing = [o["label"] for o in event.data["observations"] if not results[o["key"]]]
        if missing:
            raise ValidationError("Choisissez le résultat : " + ", ".join(missing) + ".")
        outcome = service.record_result(kernel, pharmacy, test_id, results, comment=values.get("comment", ""))
        if outcome.antibiotics:
            return [_antibiotic(kernel, pharmacy, test_id, outcome, patient)]
        return [validation(kernel, pharmacy, test_id, patient)]
    if event.kind == ANTIBIOTIC:
        if event.choice != "none":
            _choose(kernel, pharmacy, test_id, event)
        return [validation(kernel, pharmacy, test_id, patient)]
    if event.kind == VALIDATE:
        return _validate(kernel, event, test_id)
    return []


def _choose(kernel: Kernel, pharmacy_id: int, test_id: int, event: ActionAnswered) -> None:
    values = event.values
    scanned = values.get("box", "").strip()
    options = event.data["options"]
    if scanned:
        cip13 = _cip13(scanned)
        found = next((o for o in options if o["cip13"] == cip13), None)
        if found is None:
            with kernel.transaction() as session:
                product = session.scalar(
                    select(Product).where(Product.pharmacy_id == pharmacy_id, Product.cip13 == cip13)
                )
                atc = product.atc if product else None
            molecule = next((a for a in antibiotics.ANTIBIOTICS.values() if a.atc == atc), None)
            code = molecule.code if molecule else options[0]["antibiotic"] if options else ""
        else:
            code = found["antibiotic"]
    else:
        chosen = next((o for o in options if o.get("key") == event.choice), None)
        if chosen is None:
            raise ValidationError("Choisissez l'antibiotique délivré (1 à 9), ou 0 : aucun.")
        code, cip13 = chosen["antibiotic"], chosen["cip13"]
    service.choose_antibiotic(
        kernel,
        pharmacy_id,
        test_id,
        code,
        cip13,
        boxes=_int(values.get("boxes", ""), "Nombre de boîtes", 1),
        weight_kg=_weight(values.get("weight", "")),
    )


def _validate(kernel: Kernel, event: ActionAnswered, test_id: int) -> list[ActionRequired]:
    pharmacy, values = event.pharmacy_id, event.values
    name = values.get("physician_name", "").strip()
    if name:
        service.set_physician(
            kernel, pharmacy, test_id, Physician(name, mssante=values.get("physician_mssante", "").strip() or None)
        )
    with kernel.transaction() as session:
        status = get_test(session, pharmacy, test_id).status
    summary = ""
    if status == TrodStatus.OPEN:  # billed once: a retry after a refused validation does not bill again
        summary = service.finish(kernel, pharmacy, test_id, event.operator_id).summary_fr
    following = attestations.validate(kernel, pharmacy, test_id, event.operator_id)
    waiting = any(is_identity_request(a) for a in following)
    if waiting:
        message = "L'attestation attend la qualification de l'identité du patient, puis partira au DMP."
    elif _has_antibiotic(kernel, pharmacy, test_id):
        message = "L'attestation et la dispensation (liées) sont en file d'envoi vers le DMP" + _FALLBACK
    else:
        message = "L'attestation est en file d'envoi vers le DMP" + _FALLBACK
    done = _action(DONE, "TROD validé", event.patient_id, {"test_id": test_id, "summary": summary}, message)
    return [done, *following]


_FALLBACK = " (au médecin traitant par MSSanté si le DMP ne peut pas être alimenté)."


def _has_antibiotic(kernel: Kernel, pharmacy_id: int, test_id: int) -> bool:
    with kernel.transaction() as session:
        return bool(get_test(session, pharmacy_id, test_id).antibiotic)
