"""What a received message is, decided from its bytes alone, before the database or the mail server is asked
anything: unreadable (with the French reason it is set aside for), an acknowledgement, a message for a person to
read, or documents about a patient.

This step never raises, whatever the bytes: a message that cannot be read is a result like the others, so that
one bad message never stops the mailbox (decision 0601). Its cost grows with the message's size only: the MIME
and archive limits of :mod:`lgo_mssante.message` and :mod:`lgo_mssante.xdm` are checked before the work they bound.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lgo.api import LgoError

from lgo_mssante import message as mail
from lgo_mssante import xdm

log = logging.getLogger(__name__)

#: The reason shown when a parser fails in a way no rule foresaw (the precise error goes to the log).
UNEXPECTED_FR = "message illisible (erreur inattendue à la lecture) : conservé pour être examiné"


@dataclass(frozen=True)
class Reading:
    #: The parsed mail; None when even its headers could not be read.
    incoming: mail.Incoming | None
    documents: tuple[xdm.ReceivedDocument, ...] = ()
    #: The patient named by each document's header, in the same order.
    patients: tuple[mail.CdaPatient, ...] = ()
    #: Why the message is set aside, in French; None when it was read.
    refused_fr: str | None = None
    #: The precise reason, in English, for the log.
    detail: str = ""

    @property
    def kind(self) -> str:
        """``unreadable``, ``acknowledgement``, ``other`` (no archive: for a person to read) or ``documents``."""
        if self.refused_fr is not None or self.incoming is None:
            return "unreadable"
        if self.incoming.disposition is not None:
            return "acknowledgement"
        return "documents" if self.documents else "other"


def _refused(incoming: mail.Incoming | None, exc: Exception) -> Reading:
    if isinstance(exc, LgoError):
        return Reading(incoming, refused_fr=exc.message_fr, detail=exc.detail)
    log.warning("mssante: unexpected failure reading a message", exc_info=exc)
    return Reading(incoming, refused_fr=UNEXPECTED_FR, detail=f"unexpected {exc!r}")


def read(raw: bytes, *, max_bytes: int) -> Reading:
    """The message's :class:`Reading`; never raises."""
    try:
        incoming = mail.read(raw, max_bytes=max_bytes)
    except Exception as exc:  # every failure of the MIME parser is a reason to set the message aside
        return _refused(None, exc)
    if incoming.disposition is not None or incoming.xdm is None:
        return Reading(incoming)
    try:
        documents = xdm.read(incoming.xdm)
        if not documents:
            return Reading(incoming, refused_fr="L'archive IHE_XDM ne contient aucun document.", detail="empty XDM")
        patients = tuple(mail.cda_patient(document.cda) for document in documents)
    except Exception as exc:  # the archive's and the documents' failures alike
        return _refused(incoming, exc)
    return Reading(incoming, tuple(documents), patients)
