"""The ``mssante`` plugin's published API for other plugins (declare ``mssante`` in ``requires`` or ``optional``,
and check ``kernel.is_active(pharmacy_id, "mssante")`` first).

:func:`send_documents` queues validated documents of a patient to professionals and, with a qualified INS, to the
patient's Mon espace santé mailbox (the operator's mailbox rights are checked); :func:`can_send` tells whether the
operator may send at all, so that a screen offers the choice only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo_mssante.compose import addresses, patient_address
from lgo_mssante.mailbox import rights
from lgo_mssante.service import send_documents

if TYPE_CHECKING:
    from lgo.api import Kernel


def can_send(kernel: Kernel, pharmacy_id: int, operator_id: int) -> bool:
    return rights(kernel, pharmacy_id, operator_id).send


__all__ = ["addresses", "can_send", "patient_address", "send_documents"]
