"""The DMP section of the patient's file at the counter: when the pharmacy last consulted the patient's DMP, the
history of every DMP access for the patient (consultations, refusals, sendings, with who), and — for an operator
allowed to consult, on a qualified identity — the list of the DMP's documents as a fragment, fetched after the
file is shown (new documents highlighted) and the key to the full list."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lgo.api import AuditEntry, CounterShortcut, FileLink, FileRow, Operator, PatientFileSection
from sqlalchemy import select

from lgo_dmp import consultation, service

if TYPE_CHECKING:
    from lgo.api import Kernel, PatientFileView

PARIS = ZoneInfo("Europe/Paris")
#: How many DMP accesses the file lists (newest first).
HISTORY_LIMIT = 50
DOCUMENTS_KEY = "Alt+D"


def shortcuts() -> list[CounterShortcut]:
    return [
        CounterShortcut(
            DOCUMENTS_KEY,
            "Documents du DMP",
            endpoint="dmp.documents",
            needs_patient=True,
            habilitation=service.HABILITATION_CONSULT,
        )
    ]


def sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
    with kernel.transaction() as session:
        operator = session.get(Operator, view.operator_id)
        may_consult = operator is not None and operator.has(service.HABILITATION_CONSULT)
        last = consultation.last_consultation(session, view.pharmacy_id, view.patient_id)
        accesses = session.execute(
            select(AuditEntry, Operator.first_name, Operator.last_name)
            .outerjoin(Operator, Operator.id == AuditEntry.operator_id)
            .where(
                AuditEntry.pharmacy_id == view.pharmacy_id,
                AuditEntry.patient_id == view.patient_id,
                AuditEntry.action.like("dmp.%"),
            )
            .order_by(AuditEntry.id.desc())
            .limit(HISTORY_LIMIT)
        ).all()
        rows = tuple(
            FileRow(
                (
                    entry.at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
                    entry.message_fr,
                    f"{first} {last_name}" if first else "envoi automatique",
                ),
                highlight_fr="refus" if entry.action.endswith(".refused") else "",
            )
            for entry, first, last_name in accesses
        )
    shareable = kernel.is_identity_shareable(view.pharmacy_id, view.patient_id)
    params = (("patient_id", view.patient_id),)
    if not shareable:
        reason = "Le DMP n'est accessible qu'avec l'INS qualifiée : qualifiez l'identité du patient."
    elif not may_consult:
        reason = "Vous n'êtes pas habilité(e) à consulter le DMP (habilitation « Consulter le DMP »)."
    else:
        reason = ""
    lines = (f"Dernière consultation du DMP par l'officine : {consultation.since_fr(last)}.",) + (
        (reason,) if reason else ()
    )
    offer = shareable and may_consult
    links = (FileLink("Documents du DMP (filtres)", "dmp.documents", params, key=DOCUMENTS_KEY),) if offer else ()
    return [
        PatientFileSection(
            "dmp",
            "DMP : documents et historique des accès",
            lines_fr=lines,
            columns_fr=("Date", "Accès au DMP", "Par"),
            rows=rows,
            empty_fr="Aucun accès au DMP pour ce patient.",
            links=links,
            fragment=FileLink("Documents du DMP", "dmp.documents", params) if offer else None,
            order=50,
        )
    ]
