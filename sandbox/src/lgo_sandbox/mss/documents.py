"""Fictional documents and messages for the MSSanté tests and the demo: a validated bilan to send, a
professional's reply carrying an XDM archive."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

from lgo.api import SharedIdentity, cda, documents, xds_codes
from lgo_mssante import message as mail
from lgo_mssante import xdm

from lgo_sandbox.pdf import simple_pdf

if TYPE_CHECKING:
    from lgo.api import Kernel


def validated_bpm(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int) -> int:
    """A validated bilan partagé de médication (CDA level 1 with a PDF) for a patient whose identity is
    shareable; returns the document id."""
    identity = kernel.shareable_identity(pharmacy_id, patient_id)
    with kernel.transaction() as session:
        document = documents.create_draft(
            session,
            pharmacy_id=pharmacy_id,
            patient_id=patient_id,
            author_operator_id=operator_id,
            type_code=xds_codes.BILAN_MEDICAMENTEUX,
            type_display="Bilan médicamenteux (Officine)",
            title="Bilan partagé de médication",
            source_plugin="mssante",
            source_ref="exemple",
        )
        header = cda.header_for_document(session, document, identity)
        documents.set_content(document, cda.wrap_pdf(header, simple_pdf(["Bilan partagé de médication (fictif)"])))
        document_id = document.id
    documents.validate(kernel, pharmacy_id, document_id, operator_id)
    return document_id


def professional_cda(identity: SharedIdentity, *, title: str = "Compte rendu du médecin traitant") -> bytes:
    """A document a (fictional) doctor sends back about the patient: CDA level 1 carrying the INS."""
    doctor = cda.CdaPerson(
        rpps="99999000047",
        family="MEDECIN-DEMO",
        given="Anne",
        specialty_code="SM54",
        specialty_display="Médecine générale",
    )
    header = cda.CdaHeader(
        unique_id=documents.new_unique_id(),
        set_id=documents.new_unique_id(),
        version=1,
        type_code=xds_codes.CR_ENTRETIEN,
        type_display="CR d'entretien",
        title=title,
        patient=identity,
        author=doctor,
        legal_authenticator=doctor,
        organisation=cda.CdaOrganisation(
            finess="990000047", name="Cabinet médical du bac à sable", facility_type=("SA07", "Cabinet individuel")
        ),
        effective_time=datetime.now(UTC),
    )
    return cda.wrap_pdf(header, simple_pdf(["Réponse du médecin (fictive)"]))


def reply_with_xdm(
    *, sender: str, to: str, cda: bytes, read_receipt: bool = True, title: str = "Compte rendu du médecin traitant"
) -> EmailMessage:
    """The professional's reply: an MSSanté mail with an XDM archive, asking for a read receipt."""
    archive = xdm.build([xdm.OutgoingDocument(cda, title)], source_id="1.2.250.1.999.9", sender=sender, recipients=[to])
    patient = mail.cda_patient(cda)
    return mail.compose(
        sender=sender,
        to=[to],
        subject=mail.subject(title, patient),
        body="Bonjour, voici mon compte rendu.",
        message_id=mail.new_message_id(sender),
        product_reference="LOGICIEL-MEDECIN-FICTIF",
        xdm=archive,
        cda_codes=[xds_codes.CR_ENTRETIEN],
        ins_qualified=True,
        read_receipt=read_receipt,
    )
