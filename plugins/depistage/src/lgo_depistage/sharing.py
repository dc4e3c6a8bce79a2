"""Sharing a validated TROD: the DMP, and the MSSanté fallback to the médecin traitant.

:func:`share` asks the ``dmp`` plugin (when active) to feed the attestation and the dispensation through the
outbox, or sends them to the médecin traitant by MSSanté at once when the pharmacy has no DMP module.
:func:`follow_up`, a periodic job of ``lgo worker``, watches the DMP sendings: when the DMP refused a document or
stayed unreachable past the outbox's retries, the documents go to the médecin traitant's MSSanté address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from lgo_depistage import cda as trod_cda
from lgo_depistage import codes
from lgo_depistage.model import DepistageTest, Fallback, TrodStatus
from lgo_depistage.records import audit, get_test

if TYPE_CHECKING:
    from lgo.api import Kernel


def document_ids(test: DepistageTest) -> list[int]:
    return [i for i in (test.attestation_document_id, test.dispensation_document_id) if i is not None]


def share(kernel: Kernel, pharmacy_id: int, test_id: int) -> Fallback:
    """After validation: the DMP when the pharmacy feeds it (followed by :func:`follow_up`), else the médecin
    traitant by MSSanté at once."""
    with kernel.transaction() as session:
        ids = document_ids(get_test(session, pharmacy_id, test_id))
    if kernel.is_active(pharmacy_id, "dmp"):
        from lgo_dmp import api as dmp

        for document_id in ids:
            dmp.feed(kernel, pharmacy_id, document_id)
        with kernel.transaction() as session:
            get_test(session, pharmacy_id, test_id).fallback = Fallback.WATCHING
        return Fallback.WATCHING
    return _send_to_physician(kernel, pharmacy_id, test_id, "le module DMP n'est pas actif")


def _send_to_physician(kernel: Kernel, pharmacy_id: int, test_id: int, why_fr: str) -> Fallback:
    from lgo.api import LgoError

    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        ids, address, patient_id = document_ids(test), test.physician_mssante, test.patient_id
        operator_id = test.validated_by or test.operator_id
        title = trod_cda.title(codes.kind(test.kind))
    state, message_id, note = Fallback.SENT, None, ""
    if not address:
        state, note = Fallback.NO_ADDRESS, "adresse MSSanté du médecin traitant inconnue"
    elif not kernel.is_active(pharmacy_id, "mssante"):
        state, note = Fallback.UNAVAILABLE, "module MSSanté non actif"
    else:
        from lgo_mssante import api as mssante

        body = (
            "Bonjour,\n\nVeuillez trouver ci-joint l'attestation d'un test rapide d'orientation diagnostique réalisé "
            f"à l'officine pour votre patient(e) ({title}). Elle n'a pas pu être déposée dans son DMP ({why_fr})."
            "\n\nCordialement."
        )
        try:
            message_id = mssante.send_to_professionals(
                kernel, pharmacy_id, operator_id, patient_id, ids, [address], body=body
            )
        except LgoError as exc:
            state, note = Fallback.UNAVAILABLE, exc.message_fr
    with kernel.transaction() as session:
        test = get_test(session, pharmacy_id, test_id)
        test.fallback, test.fallback_message_id = state, message_id
        message = (
            f"Attestation de TROD envoyée au médecin traitant par MSSanté ({why_fr})."
            if state == Fallback.SENT
            else f"Attestation de TROD non transmise au médecin traitant ({why_fr}) : {note}."
        )
        audit(session, test, "fallback", message, operator_id)
    return state


def follow_up(kernel: Kernel, pharmacy_id: int) -> int:
    """Periodic job: for each validated attestation followed for the DMP, stop when the DMP has it, send it to the
    médecin traitant by MSSanté when the DMP refused it or the outbox gave up; try again the attestations that could
    not be sent (address or MSSanté missing then). Returns how many were sent."""
    with kernel.transaction() as session:
        rows = list(
            session.execute(
                select(DepistageTest.id, DepistageTest.fallback).where(
                    DepistageTest.pharmacy_id == pharmacy_id,
                    DepistageTest.status == TrodStatus.VALIDATED,
                    DepistageTest.fallback.in_([Fallback.WATCHING, Fallback.NO_ADDRESS, Fallback.UNAVAILABLE]),
                )
            )
        )
    sent = 0
    dmp_active = kernel.is_active(pharmacy_id, "dmp")
    for test_id, state in rows:
        if state != Fallback.WATCHING:
            why = "le DMP n'a pas pu être alimenté"
        elif not dmp_active:
            why = "le module DMP n'est plus actif"
        else:
            from lgo_dmp import api as dmp

            with kernel.transaction() as session:
                ids = document_ids(get_test(session, pharmacy_id, test_id))
            states = [dmp.feed_state(kernel, pharmacy_id, i) for i in ids]
            if all(s.delivered for s in states):
                with kernel.transaction() as session:
                    get_test(session, pharmacy_id, test_id).fallback = Fallback.NOT_NEEDED
                continue
            given_up = [s for s in states if s.given_up]
            if not given_up:
                continue
            why = f"DMP : {given_up[0].status_fr}"
        sent += _send_to_physician(kernel, pharmacy_id, test_id, why) == Fallback.SENT
    return sent
