"""The plan personnalisé de prévention (PPP): a PDF, wrapped as a CDA R2 level 1 document (decision 1300: no public
PPP volet exists; LOINC 83869-8, templateId 1.2.250.1.213.1.1.1.56 on the PDF body, DMP formatCode
``urn:asip:ci-sis:ppp:2023``),
validated by the pharmacist, fed to the DMP (``dmp`` plugin) and sent to the médecin traitant by MSSanté
(``mssante`` plugin) — both, not one instead of the other. When the identity is not qualified the plan waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from lgo.api import (
    ActionRequired,
    LgoError,
    Operator,
    Pharmacy,
    ValidationError,
    cda,
    documents,
    parse_untrusted,
    printed,
    utcnow,
)

from lgo_prevention import bands
from lgo_prevention.model import Bilan, BilanStatus
from lgo_prevention.service import PLUGIN, audit, get_bilan, pharmacist

if TYPE_CHECKING:
    from lgo.api import IdentityQualified, Kernel, SharedIdentity
    from sqlalchemy.orm import Session

TYPE = ("83869-8", "Plan personnalisé de prévention")
TEMPLATE_PPP = "1.2.250.1.213.1.1.1.56"
TITLE = "Plan personnalisé de prévention — Mon bilan prévention"


@dataclass(frozen=True)
class PlanContent:
    pharmacy: str
    pharmacist: str
    patient: str
    held_on: date
    band: str
    #: (theme, what was said)
    interview: list[tuple[str, str]]
    #: (theme, objective, actions)
    priorities: list[tuple[str, str, str]]
    physician: str = ""


def render(content: PlanContent) -> bytes:
    """The PPP as the patient takes it home and the DMP shows it."""
    lines = [("Date du bilan", f"{content.held_on:%d/%m/%Y} — tranche {content.band}")]
    lines += [("Médecin traitant", content.physician)] if content.physician else []
    header = printed.SheetHeader(
        title=TITLE,
        pharmacy=content.pharmacy,
        patient=content.patient,
        pharmacist=content.pharmacist,
        subject=f"Mon bilan prévention, {content.band}",
        lines=tuple(lines),
    )
    return printed.patient_sheet(header, lambda styles: _body(content, styles))


def _body(content: PlanContent, styles: Any) -> list[Any]:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    normal = styles["Normal"]

    def cell(text: str) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), normal)

    rows = [[cell("Thème"), cell("Mon objectif"), cell("Comment j'y arrive")]]
    rows += [[cell(t), cell(o), cell(a)] for t, o, a in content.priorities]
    story: list[Any] = [Paragraph("Mes priorités de prévention", styles["Heading2"])]
    story += [printed.grid_table(rows, (40, 60, 74)), Spacer(1, 5 * mm)]
    story.append(Paragraph("Ce que nous avons abordé", styles["Heading2"]))
    for theme, said in content.interview:
        story.append(Paragraph(f"<b>{escape(theme)} :</b> {escape(said).replace(chr(10), '<br/>')}", normal))
    return story


def _content(session: Session, bilan: Bilan, patient_text: str) -> PlanContent:
    pharmacy = session.get(Pharmacy, bilan.pharmacy_id)
    operator = session.get(Operator, bilan.operator_id)
    assert pharmacy is not None and operator is not None
    return PlanContent(
        pharmacy=f"{pharmacy.name} — FINESS {pharmacy.finess} — {pharmacy.postal_code} {pharmacy.city}",
        pharmacist=f"{operator.display_name} (RPPS {operator.rpps})",
        patient=patient_text,
        held_on=bilan.held_on,
        band=bands.BANDS[bilan.band].label_fr,
        interview=[(bands.THEMES[code].label_fr, text) for code, text in bilan.notes.items()],
        priorities=[(bands.THEMES[p["theme"]].label_fr, p["objective"], p["actions"]) for p in bilan.plan],
        physician=" — ".join(v for v in (bilan.physician_name, bilan.physician_mssante) if v),
    )


def plan_pdf(kernel: Kernel, pharmacy_id: int, bilan_id: int) -> bytes:
    """The patient's copy of the plan (PDF), as soon as it is written."""
    from lgo.api import Patient

    with kernel.transaction() as session:
        bilan = get_bilan(session, pharmacy_id, bilan_id)
        if not bilan.plan:
            raise ValidationError("Le plan personnalisé de prévention n'est pas encore écrit.")
        patient = session.get(Patient, bilan.patient_id)
        assert patient is not None
        content = _content(session, bilan, f"{patient.display_name}, né(e) le {patient.birth_date.display_fr()}")
    return render(content)


def validate(kernel: Kernel, pharmacy_id: int, bilan_id: int, operator_id: int) -> list[ActionRequired]:
    """The pharmacist validates the plan: it goes to the DMP and to the médecin traitant (now, or as soon as the
    identity is qualified)."""
    return _BILAN.validate(kernel, pharmacy_id, bilan_id, operator_id)


def on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    _BILAN.on_identity_qualified(kernel, event)


def _drafts(session: Session, bilan: Bilan, identity: SharedIdentity) -> list[int]:
    names = f"{identity.birth_name} {' '.join(identity.first_names)}"
    patient = f"{names}, né(e) le {_birth(identity.birth_date)}, INS {identity.matricule}"
    pdf = render(_content(session, bilan, patient))
    document = documents.draft_of(session, bilan, TYPE, TITLE, source_plugin=PLUGIN, source_ref=f"bilan:{bilan.id}")
    header = cda.header_for_document(session, document, identity, effective_time=utcnow())
    documents.set_content(document, level1_ppp(cda.wrap_pdf(header, pdf)))
    bilan.document_id = document.id
    return [document.id]


def level1_ppp(wrapped: bytes) -> bytes:
    """The PPP's templateId on the PDF body (decision 1300): in a level 1 document the CI-SIS admits only the
    HL7 France, CI-SIS and XDS-SD templateIds on ``ClinicalDocument`` (the XDS-SD one « replaces the volet's »), so
    the PPP model is named on ``nonXMLBody``, which the CDA schema allows and the ANS kit accepts."""
    from lxml import etree

    root = parse_untrusted(wrapped, what="plan personnalisé de prévention")
    body = root.find(f"{{{cda.NS}}}component/{{{cda.NS}}}nonXMLBody")
    body.insert(0, etree.Element(f"{{{cda.NS}}}templateId", root=TEMPLATE_PPP))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _birth(value: str) -> str:
    year, month, day = value.split("-")
    return f"{day if day != '00' else '??'}/{month if month != '00' else '??'}/{year}"


def share(kernel: Kernel, pharmacy_id: int, bilan_id: int) -> str:
    """The DMP (through the outbox) and the médecin traitant (MSSanté): returns the médecin traitant's line."""
    with kernel.transaction() as session:
        bilan = get_bilan(session, pharmacy_id, bilan_id)
        document_id, address, patient_id = bilan.document_id, bilan.physician_mssante, bilan.patient_id
        operator_id = bilan.validated_by or bilan.operator_id
    assert document_id is not None
    if kernel.is_active(pharmacy_id, "dmp"):
        from lgo_dmp import api as dmp

        dmp.feed(kernel, pharmacy_id, document_id)
    message_id = None
    if not address:
        status = "adresse MSSanté du médecin traitant inconnue : plan non envoyé"
    elif not kernel.is_active(pharmacy_id, "mssante"):
        status = "module MSSanté non actif : plan non envoyé au médecin traitant"
    else:
        from lgo_mssante import api as mssante

        body = (
            "Bonjour,\n\nVotre patient(e) a réalisé « Mon bilan prévention » à l'officine. Vous trouverez ci-joint "
            "son plan personnalisé de prévention.\n\nCordialement."
        )
        try:
            message_id = mssante.send_to_professionals(
                kernel, pharmacy_id, operator_id, patient_id, [document_id], [address], body=body
            )
            status = f"plan mis en file d'envoi MSSanté pour {address}"
        except LgoError as exc:
            status = f"plan non envoyé au médecin traitant : {exc.message_fr}"
    with kernel.transaction() as session:
        bilan = get_bilan(session, pharmacy_id, bilan_id)
        bilan.physician_status_fr, bilan.mssante_message_id = status[:300], message_id
        audit(session, bilan, "shared", f"Plan personnalisé de prévention : {status}.", operator_id)
    return status


_BILAN: documents.SharedAct[Bilan] = documents.SharedAct(
    Bilan,
    get_bilan,
    pharmacist,
    BilanStatus.BILLED,
    BilanStatus.WAITING_IDENTITY,
    BilanStatus.VALIDATED,
    name_fr="bilan",
    waiting_fr="Le plan personnalisé de prévention attend et partira ensuite.",
    drafts=_drafts,
    share=share,
)
