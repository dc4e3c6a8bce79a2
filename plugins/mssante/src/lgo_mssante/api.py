"""The ``mssante`` plugin's published API for other plugins (kept small on purpose).

A plugin that uses it declares ``mssante`` in its manifest (``requires`` or ``optional``) and, when optional, checks
``kernel.is_active(pharmacy_id, "mssante")`` first. Checks are made at once, in French; the worker composes the XDM
archive and submits it (the caller never waits on the mail server).

* :func:`send_to_professionals` queues one message carrying validated documents of a patient to health
  professionals' MSSanté addresses (e.g. the médecin traitant); :func:`message_status_fr` says where it stands;
* :func:`send_documents` does the same with the patient's Mon espace santé mailbox too (qualified INS only), the
  operator's mailbox rights checked; :func:`can_send` tells whether the operator may send at all, so that a screen
  offers the choice only then; :func:`addresses` reads typed addresses, :func:`patient_address` gives the patient's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lgo.api import NotFound

from lgo_mssante.compose import addresses, patient_address
from lgo_mssante.mailbox import rights
from lgo_mssante.model import MssMessage
from lgo_mssante.service import send_documents

if TYPE_CHECKING:
    from lgo.api import Kernel

__all__ = ["addresses", "can_send", "message_status_fr", "patient_address", "send_documents", "send_to_professionals"]


def can_send(kernel: Kernel, pharmacy_id: int, operator_id: int) -> bool:
    return rights(kernel, pharmacy_id, operator_id).send


def send_to_professionals(
    kernel: Kernel,
    pharmacy_id: int,
    operator_id: int,
    patient_id: int,
    document_ids: Sequence[int],
    addresses: Sequence[str],
    *,
    body: str = "",
) -> int:
    """Queue one message with these validated documents of the patient for these professionals' MSSanté
    addresses, sent from the operator's mailbox (nominative, or the organisational one); returns its id."""
    return send_documents(
        kernel, pharmacy_id, operator_id, patient_id, list(document_ids), professionals=list(addresses), body=body
    )


def message_status_fr(kernel: Kernel, pharmacy_id: int, message_id: int) -> str:
    """« en file d'envoi », « envoyé », « refusé par le destinataire : … »…"""
    with kernel.transaction() as session:
        message = session.get(MssMessage, message_id)
        if message is None or message.pharmacy_id != pharmacy_id:
            raise NotFound("Message MSSanté introuvable.", detail=f"message {message_id}")
        return message.status_fr
