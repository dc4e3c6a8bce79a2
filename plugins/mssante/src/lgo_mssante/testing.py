"""For tests, the demo and vendors: a fictional validated document to send, a professional's reply carrying an
XDM archive, and the provider contract a vendor's MSSanté driver must pass.

.. code-block:: python

    from lgo_mssante.testing import MssanteProviderContract

    class TestMyProvider(MssanteProviderContract):
        provider = "mon_fournisseur"

        @pytest.fixture
        def provider_under_test(self):
            ...  # yield (driver on a mailbox, a MailAccount of the same provider on an unreachable server)
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import pytest
from lgo import documents
from lgo.documents.cda import CdaHeader, CdaOrganisation, CdaPerson, header_for_document, wrap_pdf
from lgo.documents.rendering import simple_pdf
from lgo.documents.xds_codes import BILAN_MEDICAMENTEUX, CR_ENTRETIEN
from lgo.identity import SharedIdentity
from lgo.testing.contracts import ProviderContract

from lgo_mssante import message as mail
from lgo_mssante import xdm
from lgo_mssante.provider import MailAccount, MailUnavailable, MssanteProvider

if TYPE_CHECKING:
    from lgo.kernel import Kernel


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
            type_code=BILAN_MEDICAMENTEUX,
            type_display="Bilan médicamenteux (Officine)",
            title="Bilan partagé de médication",
            source_plugin="mssante",
            source_ref="exemple",
        )
        header = header_for_document(session, document, identity)
        documents.set_content(document, wrap_pdf(header, simple_pdf(["Bilan partagé de médication (fictif)"])))
        document_id = document.id
    documents.validate(kernel, pharmacy_id, document_id, operator_id)
    return document_id


def professional_cda(identity: SharedIdentity, *, title: str = "Compte rendu du médecin traitant") -> bytes:
    """A document a (fictional) doctor sends back about the patient: CDA level 1 carrying the INS."""
    doctor = CdaPerson(
        rpps="99999000047",
        family="MEDECIN-DEMO",
        given="Anne",
        specialty_code="SM54",
        specialty_display="Médecine générale",
    )
    header = CdaHeader(
        unique_id=documents.new_unique_id(),
        set_id=documents.new_unique_id(),
        version=1,
        type_code=CR_ENTRETIEN,
        type_display="CR d'entretien",
        title=title,
        patient=identity,
        author=doctor,
        legal_authenticator=doctor,
        organisation=CdaOrganisation(
            finess="990000047", name="Cabinet médical du bac à sable", facility_type=("SA07", "Cabinet individuel")
        ),
        effective_time=datetime.now(UTC),
    )
    return wrap_pdf(header, simple_pdf(["Réponse du médecin (fictive)"]))


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
        cda_codes=[CR_ENTRETIEN],
        ins_qualified=True,
        read_receipt=read_receipt,
    )


class MssanteProviderContract(ProviderContract):
    """What every MSSanté provider must do, against a real mail server."""

    capability = "mssante"
    provider = ""

    @pytest.fixture
    def provider_under_test(self) -> Any:
        pytest.skip("MssanteProviderContract: provide the `provider_under_test` fixture")

    def test_the_driver_follows_the_protocol(self, provider_under_test: tuple[Any, MailAccount]) -> None:
        assert isinstance(provider_under_test[0], MssanteProvider)

    def test_a_message_sent_to_itself_is_fetched_then_marked(
        self, provider_under_test: tuple[MssanteProvider, MailAccount]
    ) -> None:
        driver = provider_under_test[0]
        address = driver.account.address
        message = mail.compose(
            sender=address,
            to=[address],
            subject="Essai de contrat",
            body="Essai.",
            message_id=mail.new_message_id(address),
            product_reference="CONTRAT",
        )
        driver.send(message, [address])
        fetched = [f for f in driver.fetch_new(max_bytes=10_000_000) if f.raw and b"Essai de contrat" in f.raw]
        assert len(fetched) == 1
        driver.mark(fetched[0].uid, "integre")
        assert not [f for f in driver.fetch_new(max_bytes=10_000_000) if f.uid == fetched[0].uid]

    def test_an_unreachable_server_is_a_retryable_error_in_french(
        self, provider_under_test: tuple[MssanteProvider, MailAccount]
    ) -> None:
        from lgo.plugins import providers

        factory = providers.load(self.capability, self.provider)
        driver = factory(provider_under_test[1], None)
        with pytest.raises(MailUnavailable) as down:
            driver.send(
                mail.compose(
                    sender=driver.account.address,
                    to=[driver.account.address],
                    subject="x",
                    body="x",
                    message_id="<x@lgo.invalid>",
                    product_reference="CONTRAT",
                ),
                [driver.account.address],
            )
        assert down.value.message_fr
