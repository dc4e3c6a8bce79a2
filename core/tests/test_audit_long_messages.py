"""An audit message longer than its column is cut, never refused by the database (PostgreSQL checks the length), and
kept whole in the entry's details: switching on a plugin with several habilitations for a whole team writes one."""

from __future__ import annotations

from lgo.demo_data import Seeded
from lgo.domain import audit
from lgo.domain.audit import MESSAGE_LENGTH, AuditEntry
from lgo.kernel import Kernel
from sqlalchemy import select


def test_a_long_audit_message_is_cut_and_kept_in_the_details(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    text = "Habilitations accordées : " + " ; ".join(f"Opérateur {i} : droit n° {i}" for i in range(60))
    assert len(text) > MESSAGE_LENGTH
    with lgo_kernel.transaction() as session:
        audit.record(session, lgo_seeded.pharmacy_id, "test.long", text, details={"x": 1})
    with lgo_kernel.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "test.long")).one()
        assert len(entry.message_fr) == MESSAGE_LENGTH and entry.message_fr.endswith("…")
        assert entry.details == {"x": 1, "message_fr": text}
