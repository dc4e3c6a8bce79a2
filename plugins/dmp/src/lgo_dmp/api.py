"""The DMP plugin's published API for other plugins.

A plugin that uses it declares ``dmp`` in its manifest (``requires`` or ``optional``) and, when optional, checks
``kernel.is_active(pharmacy_id, "dmp")`` first. Every consultation function checks the operator's habilitation
(``dmp.consult``) and the patient's qualified identity, and traces the access with the operator's name.

Feeding: :func:`feed` asks that a validated document be sent whatever the pharmacy's automatic types (a document
the law says must reach the DMP, such as a TROD attestation); :func:`feed_state` tells a plugin whether it got
there, or whether the outbox gave up (the plugin may then use another channel, e.g. MSSanté).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lgo.api import HealthDocument
from sqlalchemy import select

from lgo_dmp.client import DmpEntry
from lgo_dmp.model import DmpSubmission
from lgo_dmp.service import (
    HABILITATION_CONSULT,
    HABILITATION_FEED,
    SendChoices,
    documents_of_types,
    list_documents,
    open_document,
    track,
)

if TYPE_CHECKING:
    from lgo.api import Kernel

#: The DMP's send window for a draft document (title and visibility, then validated and queued): a page of this
#: plugin's blueprint, ``url_for(SEND_WINDOW, document_id=…, next=<path to come back to>)``.
SEND_WINDOW = "dmp.send"

__all__ = [
    "HABILITATION_CONSULT",
    "HABILITATION_FEED",
    "SEND_WINDOW",
    "DmpEntry",
    "FeedState",
    "SendChoices",
    "documents_of_types",
    "feed",
    "feed_state",
    "list_documents",
    "open_document",
]

#: Submission statuses after which nothing more will be tried without a person (the outbox gave up, the DMP
#: refused, or the sending may have arrived without its answer).
_GIVEN_UP = frozenset({"failed", "unconfirmed"})


@dataclass(frozen=True)
class FeedState:
    """Where a document stands with the DMP."""

    #: ``absent`` (never followed), ``waiting`` (identity not qualified), ``queued``, ``sent``, ``failed``...
    status: str
    #: The French status line, with its reason.
    status_fr: str

    @property
    def delivered(self) -> bool:
        return self.status == "sent"

    @property
    def given_up(self) -> bool:
        """The DMP refused it or stayed unreachable past the outbox's retries."""
        return self.status in _GIVEN_UP


def feed(kernel: Kernel, pharmacy_id: int, document_id: int) -> FeedState:
    """Follow a validated document for the DMP even if its type is not fed automatically; queue it when the
    patient's identity is qualified (else it waits for the qualification)."""
    track(kernel, pharmacy_id, document_id, force=True)
    return feed_state(kernel, pharmacy_id, document_id)


def feed_state(kernel: Kernel, pharmacy_id: int, document_id: int) -> FeedState:
    with kernel.transaction() as session:
        submission = session.scalar(
            select(DmpSubmission).where(
                DmpSubmission.pharmacy_id == pharmacy_id, DmpSubmission.document_id == document_id
            )
        )
        if submission is None:
            document = session.get(HealthDocument, document_id)
            known = document is not None and document.pharmacy_id == pharmacy_id
            return FeedState("absent", "non suivi pour le DMP" if known else "document introuvable")
        return FeedState(submission.status.value, submission.status_fr)
