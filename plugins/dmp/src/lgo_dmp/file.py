"""The DMP section of the patient's file at the counter: when the pharmacy last consulted the patient's DMP, the
history of every DMP access for the patient (consultations, refusals, sendings, with who), and — for an operator
allowed to consult, on a qualified identity — the list of the DMP's documents as a fragment, fetched after the
file is shown (new documents highlighted) and the key to the full list."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lgo.api import CounterShortcut, FileLink, FileRow, Operator, PatientFileSection
from sqlalchemy import select

from lgo_dmp import consultation, service

if TYPE_CHECKING:
    from lgo.api import Kernel, PatientFileView

PARIS = ZoneInfo("Europe/Paris")
#: How many DMP accesses the file lists (newest first).
HISTORY_LIMIT = 50
DOCUMENTS_KEY = "Alt+O"


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
        # one row per access: the attempt traced before the call shown with its outcome (decision 0404)
        accesses = service.access_history(session, view.pharmacy_id, view.patient_id)[:HISTORY_LIMIT]
        names = {
            o.id: o.display_name
            for o in session.scalars(select(Operator).where(Operator.id.in_({a.operator_id for a in accesses})))
        }
        rows = tuple(
            FileRow(
                (
                    access.at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
                    access.message_fr,
                    names.get(access.operator_id or 0, "envoi automatique"),
                ),
                highlight_fr="refus" if access.action.endswith(".refused") else "",
            )
            for access in accesses
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
