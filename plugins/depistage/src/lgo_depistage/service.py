"""A TROD at the counter, from the questionnaire to its billing.

1. :func:`start_test` — the pharmacist starts a test (patient's consent, optional ordonnance conditionnelle and
   médecin traitant); :func:`answer` records the questionnaire and returns the protocol's decision
   (:mod:`lgo_depistage.protocols`).
2. :func:`set_device` — the device by its scanned GS1 DataMatrix (UDI) or typed; :func:`record_result` — the result
   of each observation; a positive, eligible angine or cystite gets the protocol's antibiotics to choose from.
3. :func:`choose_antibiotic` — the molecule, the box (CIP13) and the posology; :func:`finish` bills through the
   kernel's counter: the act (10 € or 15 € with the antibiotic, DROM fees) and the antibiotic on a prescription
   whose prescriber is the pharmacist (protocol) or the physician of the ordonnance conditionnelle.

Then :mod:`lgo_depistage.attestations` produces the documents and :mod:`lgo_depistage.sharing` sends them.
Nothing here waits on a national service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    Counter,
    NotFound,
    Patient,
    PrescriptionSource,
    Product,
    ValidationError,
    create_prescription,
    gs1,
    identifiers,
    utcnow,
)
from sqlalchemy import select

from lgo_depistage import antibiotics, codes, protocols
from lgo_depistage import cda as trod_cda
from lgo_depistage.model import DepistageTest, Fallback, TrodStatus
from lgo_depistage.records import (
    PLUGIN,
    ConditionalPrescription,
    Physician,
    audit,
    clean_physician,
    clean_text,
    device_of,
    get_test,
    last_physician,
    local_day,
    open_test,
    patient_of,
    pharmacist,
    today,
)

if TYPE_CHECKING:
    from lgo.api import Kernel

__all__ = ["ConditionalPrescription", "Physician"]


@dataclass(frozen=True)
class Outcome:
    """What the result means for the patient."""

    positive: bool
    eligible: bool
    #: The protocol's antibiotics (first choice first) when positive and eligible; empty otherwise.
    antibiotics: tuple[antibiotics.Antibiotic, ...]
    #: Written on the attestation when no antibiotic is dispensed.
    orientation_fr: str


@dataclass(frozen=True)
class Finished:
    invoice_id: int | None
    summary_fr: str
    actions: tuple[ActionRequired, ...] = ()


# --- 1. questionnaire -----------------------------------------------------------------------------------------


def start_test(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int,
    kind: str,
    *,
    consent: bool,
    conditional_prescription: ConditionalPrescription | None = None,
    physician: Physician | None = None,
) -> int:
    """Start a TROD for the patient, performed by this pharmacist; returns the test's number."""
    kernel.require_active(pharmacy_id, PLUGIN)
    chosen = codes.kind(kind)
    if not consent:
        raise ValidationError("Le consentement du patient (ou de son représentant légal) est nécessaire au TROD.")
    if conditional_prescription is not None and not chosen.antibiotic:
        raise ValidationError("Une ordonnance conditionnelle ne concerne que les TROD angine et cystite.")
    if conditional_prescription is not None and conditional_prescription.prescribed_on > today():
        raise ValidationError("La date de l'ordonnance conditionnelle ne peut pas être dans le futur.")
    with kernel.transaction() as session:
        pharmacist(session, pharmacy_id, operator_id)
        patient_of(session, pharmacy_id, patient_id)
        known = clean_physician(physician) or last_physician(session, pharmacy_id, patient_id)
        test = DepistageTest(
            pharmacy_id=pharmacy_id,
            patient_id=patient_id,
            operator_id=operator_id,
            kind=chosen.code,
            status=TrodStatus.OPEN,
            answers={},
            reasons=[],
            results={},
            comment="",
            orientation_fr="",
            fallback=Fallback.NONE,
        )
        if conditional_prescription is not None:
            test.prescriber_name = clean_text(conditional_prescription.prescriber_name, "Le nom du prescripteur")
            test.prescriber_rpps = (
                identifiers.check_rpps(conditional_prescription.prescriber_rpps)
                if conditional_prescription.prescriber_rpps
                else None
            )
            test.prescribed_on = conditional_prescription.prescribed_on
        if known is not None:
            test.physician_name, test.physician_rpps, test.physician_mssante = known.name, known.rpps, known.mssante
        session.add(test)
        session.flush()
        audit(session, test, "started", f"{chosen.label_fr} commencé.", operator_id)
        return test.id


def questions(kind: str) -> tuple[protocols.Question, ...]:
    """The questionnaire of a test kind, in the order the window shows it."""
    return protocols.QUESTIONS[codes.kind(kind).code]


def _assess(test: DepistageTest, patient: Patient, on: date) -> protocols.Eligibility:
    return protocols.assess(
        test.kind,
        sex=patient.sex.value,
        birth=patient.birth_date,
        on=on,
        answers=test.answers,
        conditional_prescription_on=test.prescribed_on,
    )


def answer(kernel: Kernel, pharmacy_id: int, test_id: int, answers: Mapping[str, Any]) -> protocols.Eligibility:
    """Record the questionnaire; the decision (eligible, or the reasons of the orientation) comes back."""
    with kernel.transaction() as session:
        test = open_test(session, pharmacy_id, test_id)
        test.answers = protocols.clean_answers(test.kind, answers)
        eligibility = _assess(test, patient_of(session, pharmacy_id, test.patient_id), today())
        test.eligible, test.reasons = eligibility.eligible, list(eligibility.reasons_fr)
        audit(
            session,
            test,
            "answered",
            "Questionnaire du TROD : "
            + (
                "éligible au protocole."
                if eligibility.eligible
                else "non éligible (" + " ; ".join(eligibility.reasons_fr) + ")."
            ),
            test.operator_id,
        )
        return eligibility


def set_physician(kernel: Kernel, pharmacy_id: int, test_id: int, physician: Physician) -> None:
    """Name the médecin traitant (and its MSSanté address) on a test not validated yet, or waiting for a fallback."""
    cleaned = clean_physician(physician)
    assert cleaned is not None
    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        if test.status == TrodStatus.CANCELLED:
            raise ValidationError("Ce TROD est annulé.", detail=f"test {test_id}")
        test.physician_name, test.physician_rpps, test.physician_mssante = cleaned.name, cleaned.rpps, cleaned.mssante


# --- 2. device and result -------------------------------------------------------------------------------------


def set_device(
    kernel: Kernel,
    pharmacy_id: int,
    test_id: int,
    *,
    scan: str | None = None,
    gtin: str | None = None,
    lot: str | None = None,
    expiry: date | None = None,
    serial: str | None = None,
    maker: str = "",
    reference: str = "",
) -> trod_cda.Device:
    """The test device: its GS1 DataMatrix as scanned (``scan``), or its GTIN, lot and expiry typed, or — with no
    UDI at all — its maker, reference, lot and expiry as printed on the box."""
    day = today()
    udi: gs1.BoxScan | None = None
    if scan:
        udi = gs1.parse(scan, today=day)
    elif gtin:
        udi = gs1.typed(gtin, expiry=expiry, lot=lot or "", serial=serial or "")
    lot_number = (udi.lot if udi else (lot or "").strip()) or None
    best_before = udi.expiry if udi and udi.expiry else expiry
    maker, reference = clean_text(maker, "Le fabricant")[:100], clean_text(reference, "La référence")[:60]
    if udi is None and not (maker and reference and lot_number and best_before):
        raise ValidationError(
            "Sans code UDI, indiquez le fabricant, la référence, le numéro de lot et la date de péremption du test."
        )
    if best_before is not None and best_before < day:
        raise ValidationError(f"Ce test est périmé depuis le {best_before:%d/%m/%Y} : utilisez-en un autre.")
    if lot_number and len(lot_number) > 40:
        raise ValidationError("Numéro de lot trop long (40 caractères au plus).")
    with kernel.transaction() as session:
        test = open_test(session, pharmacy_id, test_id)
        test.device_udi = udi.hri if udi else None
        test.device_gtin = udi.gtin if udi else None
        test.device_serial = (udi.serial or None) if udi else None
        test.device_lot, test.device_expiry = lot_number, best_before
        test.device_maker, test.device_reference = maker or None, reference or None
        return device_of(test)


def _results(kind: codes.TrodKind, results: Mapping[str, str]) -> dict[str, str]:
    by_name = {o.key: o.code for o in kind.observations} | {o.code: o.code for o in kind.observations}
    cleaned: dict[str, str] = {}
    for name, value in results.items():
        code = by_name.get(str(name).strip().lower())
        if code is None:
            expected = ", ".join(o.key for o in kind.observations)
            raise ValidationError(f"Résultat inconnu pour ce TROD : « {name} » (attendus : {expected}).")
        cleaned[code] = codes.Result.parse(value).value
    missing = [o.label_fr for o in kind.observations if o.code not in cleaned]
    if missing:
        raise ValidationError("Résultat manquant : " + ", ".join(missing) + ".")
    return cleaned


def _is_positive(kind: codes.TrodKind, results: Mapping[str, str]) -> bool:
    """Angine: the streptococcus; cystite: leucocytes or nitrites (BU positive); viral tests: any virus."""
    return any(results[o.code] == codes.Result.POSITIVE for o in kind.observations)


def _uninterpretable(kind: codes.TrodKind, results: Mapping[str, str]) -> bool:
    return not _is_positive(kind, results) and any(
        results[o.code] in (codes.Result.INDETERMINATE, codes.Result.UNSATISFACTORY) for o in kind.observations
    )


def _orientation(test: DepistageTest) -> str:
    """What the attestation says when no antibiotic is dispensed under the protocol (decision 1200)."""
    kind = codes.kind(test.kind)
    if test.antibiotic:
        return ""
    if _uninterpretable(kind, test.results):
        return "Résultat non interprétable : orientation vers un médecin (ou nouveau test)."
    if kind.antibiotic and test.positive:
        if not test.eligible:
            return "TROD positif, hors du protocole de délivrance sans ordonnance : orientation vers un médecin."
        return "TROD positif sans délivrance d'antibiotique à l'officine : orientation vers un médecin."
    if kind.code == "angine":
        prefix = "TROD négatif : angine probablement virale, pas d'antibiotique. "
        return prefix + "Consultez un médecin si la fièvre ou la douleur durent plus de 3 jours ou s'aggravent."
    if kind.code == "cystite":
        return "Bandelette urinaire négative : une cystite est peu probable ; orientation vers un médecin."
    if test.positive:
        return (
            "Test positif : respectez les mesures barrières et consultez votre médecin traitant, en particulier en "
            "cas de facteurs de risque ou de signes de gravité."
        )
    return "Test négatif : il n'exclut pas l'infection ; consultez un médecin si les symptômes persistent."


def _outcome(test: DepistageTest, patient: Patient) -> Outcome:
    kind = codes.kind(test.kind)
    options: tuple[antibiotics.Antibiotic, ...] = ()
    if kind.antibiotic and test.positive and test.eligible:
        youngest = patient.birth_date.ages_on(local_day(test.tested_at))[0]
        options = tuple(antibiotics.options(kind.code, test.answers, youngest))
    return Outcome(bool(test.positive), bool(test.eligible), options, _orientation(test))


def record_result(
    kernel: Kernel,
    pharmacy_id: int,
    test_id: int,
    results: Mapping[str, str],
    *,
    tested_at: datetime | None = None,
    comment: str = "",
) -> Outcome:
    """Record the result of each observation (``{"streptocoque": "positif"}`` or by LOINC code)."""
    when = tested_at or utcnow()
    if when > utcnow():
        raise ValidationError("L'heure du test ne peut pas être dans le futur.")
    with kernel.transaction() as session:
        test = open_test(session, pharmacy_id, test_id)
        if test.eligible is None:
            raise ValidationError("Répondez d'abord au questionnaire du TROD.", detail=f"test {test_id}")
        if test.device_lot is None and test.device_udi is None:
            raise ValidationError("Indiquez d'abord le dispositif de test (scan du DataMatrix ou saisie).")
        kind = codes.kind(test.kind)
        test.results = _results(kind, results)
        test.tested_at = when
        test.positive = _is_positive(kind, test.results)
        test.comment = clean_text(comment, "Le commentaire")
        patient = patient_of(session, pharmacy_id, test.patient_id)
        # The protocol is judged on the day of the test.
        eligibility = _assess(test, patient, local_day(when))
        test.eligible, test.reasons = eligibility.eligible, list(eligibility.reasons_fr)
        test.antibiotic = None
        test.orientation_fr = _orientation(test)
        audit(
            session,
            test,
            "result",
            f"Résultat du {kind.label_fr} : "
            + ", ".join(codes.Result(r).label_fr for r in test.results.values())
            + ".",
            test.operator_id,
        )
        return _outcome(test, patient)


def outcome(kernel: Kernel, pharmacy_id: int, test_id: int) -> Outcome:
    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        if test.positive is None:
            raise ValidationError("Le résultat du TROD n'est pas encore enregistré.", detail=f"test {test_id}")
        return _outcome(test, patient_of(session, pharmacy_id, test.patient_id))


# --- 3. antibiotic and billing --------------------------------------------------------------------------------


def choose_antibiotic(
    kernel: Kernel,
    pharmacy_id: int,
    test_id: int,
    antibiotic_code: str,
    cip13: str,
    *,
    boxes: int = 1,
    weight_kg: float | None = None,
) -> antibiotics.Posology:
    """The protocol's antibiotic chosen for a positive, eligible test, the box dispensed (CIP13) and the number of
    boxes; returns the posology written on the documents."""
    chosen = antibiotics.antibiotic(antibiotic_code)
    if not 1 <= boxes <= 3:
        raise ValidationError("Nombre de boîtes invalide (de 1 à 3).")
    with kernel.transaction() as session:
        test = open_test(session, pharmacy_id, test_id)
        patient = patient_of(session, pharmacy_id, test.patient_id)
        result = _outcome(test, patient)
        if not result.positive:
            raise ValidationError("Pas d'antibiotique sans un TROD positif.", detail=f"test {test_id}")
        if not result.eligible:
            raise ValidationError(
                "Pas d'antibiotique sans ordonnance hors du protocole : " + " ; ".join(test.reasons) + ".",
                detail=f"test {test_id}",
            )
        if chosen.code not in [a.code for a in result.antibiotics]:
            allowed = ", ".join(a.label_fr for a in result.antibiotics) or "aucun"
            raise ValidationError(f"{chosen.label_fr} n'est pas le choix du protocole pour ce patient ({allowed}).")
        product = session.scalar(
            select(Product).where(Product.pharmacy_id == pharmacy_id, Product.cip13 == identifiers.check_cip13(cip13))
        )
        if product is None:
            raise NotFound(f"Produit inconnu : CIP13 {cip13}.")
        if product.atc != chosen.atc:
            raise ValidationError(
                f"« {product.label} » n'est pas de la {chosen.label_fr.lower()} (ATC {chosen.atc}, "
                f"fiche produit : {product.atc or 'sans code ATC'})."
            )
        answered = test.answers.get("poids")
        weight = weight_kg if weight_kg is not None else (float(answered) if answered is not None else None)
        posology = chosen.posology(patient.birth_date.ages_on(local_day(test.tested_at))[0], weight)
        test.antibiotic, test.product_id, test.boxes = chosen.code, product.id, boxes
        test.dose_mg, test.intakes_per_day, test.days = posology.dose_mg, posology.intakes_per_day, posology.days
        test.orientation_fr = ""
        return posology


def finish(kernel: Kernel, pharmacy_id: int, test_id: int, operator_id: int) -> Finished:
    """Bill the test through the counter: its act (with the antibiotic's tariff when dispensed without a
    conditional prescription) and the antibiotic box on the protocol's prescription. The attestation then waits
    for the pharmacist's validation."""
    with kernel.transaction() as session:
        test = open_test(session, pharmacy_id, test_id)
        if test.positive is None:
            raise ValidationError("Enregistrez d'abord le résultat du TROD.", detail=f"test {test_id}")
        kind = codes.kind(test.kind)
        performer = pharmacist(session, pharmacy_id, test.operator_id)
        patient_id, antibiotic, conditional = test.patient_id, test.antibiotic, test.prescribed_on is not None
        cip13 = None
        if antibiotic:
            product = session.get(Product, test.product_id)
            assert product is not None
            cip13 = product.cip13
            if conditional:
                assert test.prescriber_name and test.prescribed_on
                prescription = create_prescription(
                    session,
                    pharmacy_id,
                    patient_id,
                    prescriber_name=test.prescriber_name,
                    prescriber_rpps=test.prescriber_rpps,
                    prescribed_on=test.prescribed_on,
                )
            else:
                prescription = create_prescription(
                    session,
                    pharmacy_id,
                    patient_id,
                    prescriber_name=f"{performer.first_name} {performer.last_name.upper()} (pharmacien, protocole)",
                    prescriber_rpps=performer.rpps,
                    prescribed_on=today(),
                    source=PrescriptionSource.PROTOCOL,
                )
            test.prescription_id = prescription.id
        prescription_id, boxes = test.prescription_id, test.boxes or 1
    if kind.act_code is None and not antibiotic:
        with kernel.transaction() as session:
            test = open_test(session, pharmacy_id, test_id)
            test.status = TrodStatus.BILLED
            audit(session, test, "finished", f"{kind.label_fr} terminé (aucun acte facturé).", operator_id)
        return Finished(None, f"{kind.label_fr} : aucun acte facturé par le module (décision 1200).")
    counter = Counter(kernel, pharmacy_id, operator_id)
    billing = counter.start_billing(patient_id=patient_id, prescription_id=prescription_id)
    if kind.act_code:
        tariff = codes.WITH_ANTIBIOTIC if antibiotic and not conditional else None
        counter.add_act(billing, kind.act_code, tariff=tariff)
    if antibiotic and cip13:
        counter.add_product(billing, cip13, boxes)
    result = counter.end_billing(billing)
    lot = next((line.lot_number for line in result.event.lines if line.kind == "product"), None)
    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        test.invoice_id, test.lot_number, test.status = result.invoice_id, lot, TrodStatus.BILLED
        audit(session, test, "finished", f"{kind.label_fr} facturé : {result.summary_fr()}.", operator_id)
    return Finished(result.invoice_id, result.summary_fr(), result.actions)


def cancel(kernel: Kernel, pharmacy_id: int, test_id: int, operator_id: int, reason_fr: str) -> None:
    """Abandon a test not billed yet (the patient left, a wrong patient...)."""
    with kernel.transaction() as session:
        test = open_test(session, pharmacy_id, test_id)
        test.status = TrodStatus.CANCELLED
        audit(session, test, "cancelled", f"TROD annulé : {clean_text(reason_fr, 'Le motif')}", operator_id)


@dataclass(frozen=True)
class TrodLine:
    test_id: int
    patient_id: int
    kind_fr: str
    status_fr: str
    result_fr: str
    fallback_fr: str


def tests_for_patient(kernel: Kernel, pharmacy_id: int, patient_id: int | None = None) -> list[TrodLine]:
    """The pharmacy's tests (of one patient), newest first."""
    with kernel.transaction() as session:
        lines = []
        for test in DepistageTest.of_pharmacy(session, pharmacy_id, patient_id):
            result = {None: "—", True: "positif", False: "négatif ou non interprétable"}[test.positive]
            lines.append(
                TrodLine(
                    test.id,
                    test.patient_id,
                    codes.kind(test.kind).label_fr,
                    test.status.label_fr,
                    result,
                    test.fallback.label_fr,
                )
            )
        return lines
