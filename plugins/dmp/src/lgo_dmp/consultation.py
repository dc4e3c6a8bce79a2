"""Consulting a patient's DMP at the counter: the list of documents with what is new since this pharmacy's last
consultation, and one document opened.

« New » follows the ANS guide of the DMP consultation (``exemples_usage_dmp``): the pharmacy keeps, per patient, the
date of its last consultation (``dateAppelDMP``, table ``dmp_consultation``). The first time, every document the
pharmacy does not hold already is new (documents of other authors); afterwards, the documents of the submission
sets brought since that date (FindSubmissionSets, then GetAssociations), less the ones the pharmacy produced itself.
Within one visit (:data:`VISIT`) the reference date stays the same, so changing a filter or coming back from a
document does not lose the highlights.

Every consultation is checked (habilitation ``dmp.consult``, qualified identity) and traced with the operator's name
before the call and its outcome after, allowed, refused or failed (:func:`lgo_dmp.access.traced`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lgo.api import HealthDocument, NotFound, utcnow, xds
from sqlalchemy import select

from lgo_dmp import service
from lgo_dmp.client import ARCHIVED, DmpEntry
from lgo_dmp.model import DmpConsultation

if TYPE_CHECKING:
    from lgo.api import Kernel
    from sqlalchemy.orm import Session

PARIS = ZoneInfo("Europe/Paris")
#: Consultations this close to the previous one belong to the same visit: « new » keeps its reference.
VISIT = timedelta(minutes=30)


@dataclass(frozen=True)
class Filters:
    """What the list shows besides the active documents (each on request, as the DMP's own screen does)."""

    archived: bool = False
    masked: bool = False
    obsolete: bool = False

    @property
    def statuses(self) -> tuple[str, ...]:
        return (
            xds.APPROVED,
            *((ARCHIVED,) if self.archived else ()),
            *((xds.DEPRECATED,) if self.obsolete else ()),
        )

    @property
    def label_fr(self) -> str:
        extra = [
            w for w, on in (("archivés", self.archived), ("masqués", self.masked), ("obsolètes", self.obsolete)) if on
        ]
        return "documents actifs" + (" et " + ", ".join(extra) if extra else "")


@dataclass(frozen=True)
class Consultation:
    entries: tuple[DmpEntry, ...]
    #: entryUUIDs of the documents shown as new.
    new: frozenset[str]
    #: What « new » is measured from (None: the pharmacy's first consultation of this DMP).
    since: datetime | None
    filters: Filters

    def is_new(self, entry: DmpEntry) -> bool:
        return entry.entry_uuid in self.new

    @property
    def summary_fr(self) -> str:
        count = len(self.entries)
        new = sum(1 for e in self.entries if self.is_new(e))
        since = (
            f"depuis la dernière consultation par l'officine, le {self.since.astimezone(PARIS):%d/%m/%Y à %H:%M}"
            if self.since
            else "première consultation de ce DMP par l'officine : tous les documents d'autres auteurs"
        )
        return f"{count} document(s) ({self.filters.label_fr}) ; {new} nouveau(x) {since}."


def _reference(session: Session, pharmacy_id: int, patient_id: int, operator_id: int, now: datetime) -> datetime | None:
    """Record this consultation and return the date « new » is measured from."""
    row = session.scalar(
        select(DmpConsultation).where(
            DmpConsultation.pharmacy_id == pharmacy_id, DmpConsultation.patient_id == patient_id
        )
    )
    if row is None:
        session.add(
            DmpConsultation(
                pharmacy_id=pharmacy_id,
                patient_id=patient_id,
                last_consulted_at=now,
                reference_at=None,
                last_operator_id=operator_id,
            )
        )
        return None
    if now - row.last_consulted_at > VISIT:  # a new visit: new since the previous one
        row.reference_at = row.last_consulted_at
    row.last_consulted_at, row.last_operator_id = now, operator_id
    return row.reference_at


def last_consultation(session: Session, pharmacy_id: int, patient_id: int) -> datetime | None:
    return session.scalar(
        select(DmpConsultation.last_consulted_at).where(
            DmpConsultation.pharmacy_id == pharmacy_id, DmpConsultation.patient_id == patient_id
        )
    )


def _local_unique_ids(session: Session, pharmacy_id: int, unique_ids: list[str]) -> set[str]:
    """The documents this pharmacy holds already (produced here): never « new » for it."""
    if not unique_ids:
        return set()
    return set(
        session.scalars(
            select(HealthDocument.unique_id).where(
                HealthDocument.pharmacy_id == pharmacy_id, HealthDocument.unique_id.in_(unique_ids)
            )
        )
    )


def consult(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, filters: Filters) -> Consultation:
    """The patient's DMP documents for these filters, newest first, with the new ones marked; traced."""
    with service.traced(kernel, pharmacy_id, operator_id, patient_id, "liste des documents") as trace:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
        now = utcnow()
        with kernel.transaction() as session:
            reference = _reference(session, pharmacy_id, patient_id, operator_id, now)
        with service.make_client(kernel, pharmacy_id, operator_id) as client:
            entries = client.find_documents(identity.xds_patient_id, statuses=filters.statuses)
            brought = (
                client.submitted_since(identity.xds_patient_id, reference.astimezone(UTC).strftime("%Y%m%d%H%M%S"))
                if reference is not None
                else {e.entry_uuid for e in entries}
            )
        with kernel.transaction() as session:
            local = _local_unique_ids(session, pharmacy_id, [e.unique_id for e in entries])
        new = frozenset(e.entry_uuid for e in entries if e.entry_uuid in brought and e.unique_id not in local)
        # newest first; at the same time, what is new comes first (its number key is the one to press)
        shown = tuple(
            sorted(
                (e for e in entries if filters.masked or not e.masked),
                key=lambda e: (e.creation_time, e.entry_uuid in new),
                reverse=True,
            )
        )
        trace.done_action = "dmp.consult.list"
        trace.done_fr = (
            f"Consultation de la liste des documents du DMP par {trace.operator_name} ({filters.label_fr} : "
            f"{len(shown)} document(s), dont {sum(1 for e in shown if e.entry_uuid in new)} nouveau(x))."
        )
    return Consultation(shown, new, reference, filters)


def open_by_unique_id(
    kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, unique_id: str
) -> tuple[DmpEntry, bytes]:
    """One document of the patient's DMP (its entry and content), each access checked and traced."""
    with service.traced(kernel, pharmacy_id, operator_id, patient_id, "ouverture d'un document") as trace:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
        with service.make_client(kernel, pharmacy_id, operator_id) as client:
            entry = client.get_document_entry(identity.xds_patient_id, unique_id)
            if entry is None:
                raise NotFound(
                    "Ce document n'est pas (ou plus) dans le DMP du patient.", detail=f"unique id {unique_id}"
                )
            content = client.retrieve(identity.xds_patient_id, entry.unique_id, entry.repository_unique_id)
        trace.done_action = "dmp.consult.document"
        trace.done_fr = f"Consultation du document « {entry.title} » du DMP par {trace.operator_name}."
        trace.details = {"unique_id": entry.unique_id}
    return entry, content


def since_fr(value: datetime | None) -> str:
    return f"{value.astimezone(PARIS):%d/%m/%Y à %H:%M}" if value else "jamais"


__all__ = ["Consultation", "Filters", "consult", "last_consultation", "open_by_unique_id", "since_fr"]
