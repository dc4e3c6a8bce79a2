"""The documents of a validated TROD and the patient's attestation.

:func:`validate` — the pharmacist validates: the BIO-TROD attestation, then the eDISP-MED dispensation that names
it, are produced and validated in the kernel (waiting for the qualified identity when need be, until
``lgo_on_identity_qualified``), then shared (:mod:`lgo_depistage.sharing`). :func:`attestation_pdf` is the
patient's copy, available as soon as the result is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import (
    ActionRequired,
    HealthDocument,
    Operator,
    Pharmacy,
    Product,
    ValidationError,
    cda,
    documents,
    utcnow,
)
from sqlalchemy.orm import Session

from lgo_depistage import antibiotics, codes, edisp, pdf
from lgo_depistage import cda as trod_cda
from lgo_depistage.model import DepistageTest, TrodStatus
from lgo_depistage.records import (
    PLUGIN,
    audit,
    device_of,
    get_test,
    patient_of,
    pharmacist,
    posology_of,
    treatment_of,
)
from lgo_depistage.sharing import share

if TYPE_CHECKING:
    from lgo.api import IdentityQualified, Kernel, SharedIdentity


def validate(kernel: Kernel, pharmacy_id: int, test_id: int, operator_id: int) -> list[ActionRequired]:
    """The pharmacist validates the attestation (and the dispensation): produced now when the identity is
    qualified, else as soon as it is."""
    return _TROD.validate(kernel, pharmacy_id, test_id, operator_id)


def on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    _TROD.on_identity_qualified(kernel, event)


def _drafts(session: Session, test: DepistageTest, identity: SharedIdentity) -> list[int]:
    attestation = _attestation_draft(session, test, identity)
    dispensation = _dispensation_draft(session, test, identity, attestation) if test.antibiotic else None
    test.attestation_document_id = attestation.id
    test.dispensation_document_id = dispensation.id if dispensation else None
    return [attestation.id] + ([dispensation.id] if dispensation else [])


def _validated(session: Session, test: DepistageTest) -> None:
    audit(session, test, "validated", "Attestation de TROD validée par le pharmacien.", test.validated_by)


def _attestation_draft(session: Session, test: DepistageTest, identity: SharedIdentity) -> HealthDocument:
    kind = codes.kind(test.kind)
    assert test.tested_at is not None
    document = documents.draft_of(
        session, test, codes.DOCUMENT_TYPE, trod_cda.title(kind), source_plugin=PLUGIN, source_ref=f"trod:{test.id}"
    )
    header = cda.header_for_document(session, document, identity, effective_time=utcnow())
    trod = trod_cda.Trod(
        kind=kind,
        tested_at=test.tested_at,
        device=device_of(test),
        results={code: codes.Result(value) for code, value in test.results.items()},
        comment=_comment(session, test),
    )
    documents.set_content(document, trod_cda.build(trod_cda.screening_header(header, kind, test.tested_at), trod))
    return document


def _comment(session: Session, test: DepistageTest) -> str:
    """The comment on each result: the pharmacist's, then the antibiotic or the orientation and its reasons."""
    parts = [test.comment] if test.comment else []
    posology = posology_of(test)
    if posology is not None and test.antibiotic:
        chosen = antibiotics.antibiotic(test.antibiotic)
        how = "sur l'ordonnance conditionnelle" if test.prescribed_on else "sans ordonnance selon le protocole"
        parts.append(f"Antibiotique délivré {how} : {chosen.label_fr}, {posology.text_fr}.")
    if test.orientation_fr:
        parts.append(test.orientation_fr)
    if test.reasons and not test.antibiotic:
        parts.append("Motifs : " + " ; ".join(test.reasons) + ".")
    return " ".join(parts)


def _dispensation_draft(
    session: Session, test: DepistageTest, identity: SharedIdentity, attestation: HealthDocument
) -> HealthDocument:
    posology = posology_of(test)
    product = session.get(Product, test.product_id)
    assert posology is not None and product is not None and test.antibiotic
    chosen = antibiotics.antibiotic(test.antibiotic)
    kind = codes.kind(test.kind)
    document = documents.draft_of(
        session,
        test,
        edisp.TYPE,
        f"Dispensation médicamenteuse — {chosen.label_fr} ({kind.title_fr})",
        source_plugin=PLUGIN,
        source_ref=f"trod:{test.id}:dispensation",
    )
    dispensed_at = test.tested_at or utcnow()
    header = cda.header_for_document(session, document, identity, effective_time=utcnow())
    how = (
        f"sur l'ordonnance conditionnelle de {test.prescriber_name} du {test.prescribed_on:%d/%m/%Y}"
        if test.prescribed_on
        else "sans ordonnance, par le pharmacien selon le protocole (CSP R5125-33-10)"
    )
    dispensed = edisp.Dispensed(
        dispensed_at=dispensed_at,
        label=product.label,
        cip13=product.cip13,
        cis=product.cis,
        atc=product.atc,
        substance_fr=chosen.label_fr,
        boxes=test.boxes or 1,
        lot=test.lot_number,
        posology=posology,
        attestation_unique_id=attestation.unique_id,
        context_fr=f"Délivrance {how}, après un {kind.label_fr} positif (attestation {attestation.unique_id}).",
    )
    documents.set_content(document, edisp.build(edisp.dispensation_header(header, dispensed_at), dispensed))
    return document


def attestation_pdf(kernel: Kernel, pharmacy_id: int, test_id: int) -> bytes:
    """The patient's attestation (PDF), as soon as the result is recorded."""
    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        if test.positive is None or test.tested_at is None:
            raise ValidationError("Le résultat du TROD n'est pas encore enregistré.", detail=f"test {test_id}")
        kind = codes.kind(test.kind)
        pharmacy = session.get(Pharmacy, pharmacy_id)
        operator = session.get(Operator, test.operator_id)
        patient = patient_of(session, pharmacy_id, test.patient_id)
        assert pharmacy is not None and operator is not None
        treatment = treatment_of(session, test)
        device = device_of(test)
        content = pdf.AttestationContent(
            title=f"Attestation — {trod_cda.title(kind)}",
            pharmacy=f"{pharmacy.name} — FINESS {pharmacy.finess} — {pharmacy.postal_code} {pharmacy.city}",
            pharmacist=f"{operator.display_name} (RPPS {operator.rpps})",
            patient=f"{patient.display_name}, né(e) le {patient.birth_date.display_fr()}",
            tested_at=cda.local(test.tested_at),
            test=kind.label_fr,
            device=(f"UDI {device.udi} — " if device.udi else "") + device.description_fr,
            results=[(o.label_fr, codes.Result(test.results[o.code]).label_fr) for o in kind.observations],
            antibiotic=f"{treatment}." if treatment else "",
            orientation=test.orientation_fr,
            reasons=list(test.reasons) if not test.antibiotic else [],
            physician=" — ".join(v for v in (test.physician_name, test.physician_mssante) if v),
        )
    return pdf.render(content)


_TROD: documents.SharedAct[DepistageTest] = documents.SharedAct(
    DepistageTest,
    get_test,
    pharmacist,
    TrodStatus.BILLED,
    TrodStatus.WAITING_IDENTITY,
    TrodStatus.VALIDATED,
    name_fr="TROD",
    waiting_fr="L'attestation du TROD attend et partira au DMP ensuite.",
    drafts=_drafts,
    share=share,
    on_validated=_validated,
)
