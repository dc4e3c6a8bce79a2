"""The INS section of the patient's file at the counter: the identity status with its matricule and the traits INSi
returned, and its history — every INSi call, identity document checked and status change, with who did it — read
from the audit log (this plugin writes each of them there)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lgo.api import AuditEntry, FileRow, Operator, PatientFileSection
from sqlalchemy import select

from lgo_ins import api
from lgo_ins.model import Status

if TYPE_CHECKING:
    from lgo.api import Kernel, PatientFileView

PARIS = ZoneInfo("Europe/Paris")
#: How many events of the identity's history the file shows (newest first).
HISTORY_LIMIT = 100
EVENTS_FR = {
    "ins.insi_call": "Appel INSi",
    "ins.insi_result": "Identité INS récupérée",
    "ins.insi_refused_by_pharmacist": "Identité INSi refusée",
    "ins.document_checked": "Pièce d'identité vérifiée",
    "ins.document_answer": "Pièce d'identité",
    "ins.demoted": "Statut rétrogradé",
    "ins.status": "Changement de statut",
}


def sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
    with kernel.transaction() as session:
        row = api.identity_of(session, view.pharmacy_id, view.patient_id)
        status = row.status if row else Status.PROVISOIRE
        lines = [f"Statut de l'identité : {status.value}"]
        if row is not None and row.matricule and status in (Status.RECUPEREE, Status.QUALIFIEE):
            lines.append(f"Matricule INS : {row.matricule} (OID {row.oid})")
        if row is not None and row.traits:
            traits = row.traits
            lines.append(
                "Traits INS : "
                + " ".join(
                    str(part)
                    for part in (
                        traits.get("birth_name", ""),
                        " ".join(traits.get("first_names", [])),
                        f"— sexe {traits.get('sex', '')}",
                        f"— né(e) le {_french(str(traits.get('birth_date', '')))}",
                        f"— lieu {traits.get('birth_place_code') or 'inconnu'}",
                    )
                )
            )
        if row is not None and row.document_kind:
            lines.append(f"Justificatif d'identité : {row.document_kind}")
        elif row is not None and row.document_note:
            lines.append(f"Pièce d'identité : {row.document_note}")
        events = session.execute(
            select(AuditEntry, Operator.first_name, Operator.last_name)
            .outerjoin(Operator, Operator.id == AuditEntry.operator_id)
            .where(
                AuditEntry.pharmacy_id == view.pharmacy_id,
                AuditEntry.patient_id == view.patient_id,
                AuditEntry.action.like("ins.%"),
            )
            .order_by(AuditEntry.id.desc())
            .limit(HISTORY_LIMIT)
        ).all()
        rows = tuple(
            FileRow(
                (
                    entry.at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
                    EVENTS_FR.get(entry.action, entry.action),
                    entry.message_fr,
                    str((entry.details or {}).get("status", "")),
                    f"{first} {last}" if first else "automatique",
                )
            )
            for entry, first, last in events
        )
    return [
        PatientFileSection(
            "ins",
            "Identité nationale de santé (INS) et son historique",
            lines_fr=tuple(lines),
            columns_fr=("Date", "Événement", "Détail", "Statut après", "Par"),
            rows=rows,
            empty_fr="Aucun appel INSi ni pièce d'identité enregistrés pour ce patient.",
            order=15,
        )
    ]


def _french(iso: str) -> str:
    parts = iso.split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 else iso
