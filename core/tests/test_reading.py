"""Units of work that only read (``Kernel.reading``): no write lock on SQLite, no BEGIN/COMMIT on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from lgo.demo_data import Seeded
from lgo.domain.patients import Patient
from lgo.domain.products import product_by_cip13
from lgo.kernel import Kernel


def test_a_read_does_not_wait_for_another_connection_s_write(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    """A product scanned at one counter while another process holds the write lock of the SQLite database (a billing
    being written) is found at once: only ``Kernel.transaction`` takes the lock."""
    writing, done = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with lgo_kernel.transaction() as session:
            session.get(Patient, lgo_seeded.patients["jean"]).complementary_rate = 50  # type: ignore[union-attr]
            session.flush()
            writing.set()
            done.wait(30)

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    try:
        assert writing.wait(30)
        found: list[str] = []
        reader = threading.Thread(
            target=lambda: found.append(_label(lgo_kernel, lgo_seeded)),
        )
        reader.start()
        reader.join(5)  # a reader queued behind the write lock would still be waiting (busy timeout: 60 s)
        assert found and found[0].startswith("PARACÉTAMOL")
    finally:
        done.set()
        writer.join(30)


def _label(kernel: Kernel, seeded: Seeded) -> str:
    with kernel.reading() as session:
        return product_by_cip13(session, seeded.pharmacy_id, seeded.products["paracetamol"]).label


def test_writing_in_a_read_only_unit_of_work_is_refused(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    with pytest.raises(RuntimeError, match="read-only unit of work"), lgo_kernel.reading() as session:
        session.get(Patient, lgo_seeded.patients["jean"]).complementary_rate = 10  # type: ignore[union-attr]
        session.flush()
    with lgo_kernel.reading() as session:
        assert session.get(Patient, lgo_seeded.patients["jean"]).complementary_rate == 100  # type: ignore[union-attr]


@pytest.mark.parametrize("lgo_backend", ["postgresql"], indirect=True)  # SQLite: the first test shows the reads
def test_reads_on_postgresql_run_in_autocommit(lgo_kernel: Kernel) -> None:
    with lgo_kernel.reading() as session:
        assert session.connection().connection.dbapi_connection.autocommit  # type: ignore[union-attr]
    with lgo_kernel.transaction() as session:
        assert not session.connection().connection.dbapi_connection.autocommit  # type: ignore[union-attr]
