"""The state of a national service for the counter's status bar, read from the outbox only."""

from __future__ import annotations

from lgo.demo_data import Seeded
from lgo.domain import outbox
from lgo.domain.outbox import OutboxStatus
from lgo.kernel import Kernel


def _state(kernel: Kernel, seeded: Seeded, patient: int | None = None) -> tuple[str, int, str]:
    with kernel.transaction() as session:
        status = outbox.service_status(
            session, seeded.pharmacy_id, patient, service="dmp", label_fr="DMP", plugin="dmp"
        )
        return status.state, status.waiting_for_patient, status.state_fr


def test_unknown_then_ok_then_degraded_then_down_with_what_waits_for_the_patient(
    lgo_kernel: Kernel, lgo_seeded: Seeded
) -> None:
    camille, jean = lgo_seeded.patients["camille"], lgo_seeded.patients["jean"]
    assert _state(lgo_kernel, lgo_seeded) == ("unknown", 0, "pas encore utilisé")
    with lgo_kernel.transaction() as session:
        sent = outbox.enqueue(
            session, lgo_seeded.pharmacy_id, plugin="dmp", kind="dmp.feed", payload={}, patient_id=jean
        )
        sent.status = OutboxStatus.DELIVERED
        other = outbox.enqueue(session, lgo_seeded.pharmacy_id, plugin="mssante", kind="mssante.send", payload={})
        other.status = OutboxStatus.DEAD  # another service's failure says nothing about the DMP
    assert _state(lgo_kernel, lgo_seeded, camille) == ("ok", 0, "disponible")
    with lgo_kernel.transaction() as session:
        waiting = outbox.enqueue(
            session, lgo_seeded.pharmacy_id, plugin="dmp", kind="dmp.feed", payload={}, patient_id=camille
        )
        waiting.last_error = "ConnectError: le DMP ne répond pas"
    assert _state(lgo_kernel, lgo_seeded, camille) == ("degraded", 1, "dégradé")
    assert _state(lgo_kernel, lgo_seeded, jean)[1] == 0
    with lgo_kernel.transaction() as session:
        dead = outbox.enqueue(session, lgo_seeded.pharmacy_id, plugin="dmp", kind="dmp.feed", payload={})
        dead.status = OutboxStatus.DEAD
    assert _state(lgo_kernel, lgo_seeded, camille) == ("down", 1, "indisponible")
