"""The MSSanté section of the patient's file at the counter: the documents received for the patient (integrated
automatically, or attached by hand from the quarantine — by whom), the messages exchanged about the patient, and the
keys to the mailbox and to write about the patient — each offered only with the operator's mailbox rights."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lgo.api import CounterShortcut, FileLink, FileRow, Operator, PatientFileSection
from sqlalchemy import func, select

from lgo_mssante import mailbox
from lgo_mssante.model import Direction, MssMessage, MssReceivedDocument

if TYPE_CHECKING:
    from lgo.api import Kernel, PatientFileView

PARIS = ZoneInfo("Europe/Paris")
MAILBOX_KEY = "Alt+M"


def shortcuts() -> list[CounterShortcut]:
    return [CounterShortcut(MAILBOX_KEY, "Messagerie MSSanté", endpoint="mssante_boite.mailbox_page")]


def sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
    allowed = mailbox.rights(kernel, view.pharmacy_id, view.operator_id)
    with kernel.transaction() as session:
        received = session.execute(
            select(MssReceivedDocument, MssMessage.peer, Operator.first_name, Operator.last_name)
            .join(MssMessage, MssMessage.id == MssReceivedDocument.message_id)
            .outerjoin(Operator, Operator.id == MssReceivedDocument.attached_by)
            .where(
                MssReceivedDocument.pharmacy_id == view.pharmacy_id,
                MssReceivedDocument.patient_id == view.patient_id,
            )
            .order_by(MssReceivedDocument.received_at.desc())
        ).all()
        exchanged = dict(
            session.execute(
                select(MssMessage.direction, func.count())
                .where(MssMessage.pharmacy_id == view.pharmacy_id, MssMessage.patient_id == view.patient_id)
                .group_by(MssMessage.direction)
            ).all()
        )
    rows = tuple(
        FileRow(
            (
                document.received_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
                document.title,
                document.type_code,
                sender,
                f"à la main par {first} {last}" if first else "automatique",
            ),
            link=FileLink(
                "Ouvrir",
                "mssante_boite.received_document",
                (("patient_id", view.patient_id), ("document_id", document.id)),
            )
            if allowed.read
            else None,
        )
        for document, sender, first, last in received
    )
    params = (("patient_id", view.patient_id),)
    links = []
    if allowed.read:
        links.append(FileLink("Messagerie", "mssante_boite.mailbox_page", params, key=MAILBOX_KEY))
    if allowed.send:
        links.append(FileLink("Écrire au sujet du patient", "mssante_boite.compose_page", params, key="Alt+W"))
    sent, got = exchanged.get(Direction.OUT, 0), exchanged.get(Direction.IN, 0)
    return [
        PatientFileSection(
            "mssante",
            "Documents reçus par MSSanté",
            lines_fr=(f"Messages au sujet du patient : {sent} envoyé(s), {got} reçu(s).",),
            columns_fr=("Reçu le", "Titre", "Type (LOINC)", "Expéditeur", "Intégration"),
            rows=rows,
            empty_fr="Aucun document reçu par MSSanté pour ce patient.",
            links=tuple(links),
            order=45,
        )
    ]
