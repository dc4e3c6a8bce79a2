"""The workload generator (``benchmarks/workload``) at a small scale: its pharmacy-year has the volumes asked for,
passes the kernel's invariants on SQLite and PostgreSQL, is the same for the same seed, hosts a group of pharmacies
in one database, and the counter bills on it afterwards. The large scale runs in ``python3 dev.py bench``."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from lgo.counter import Counter
from lgo.domain.billing import Invoice, InvoiceLine
from lgo.domain.dispensing import create_prescription
from lgo.domain.patients import Patient
from lgo.domain.products import ListCategory, Product
from lgo.domain.stock import receive
from lgo.kernel import Kernel
from lgo.testing.invariants import check
from sqlalchemy import Engine, func, inspect, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from workload import Scale, finess_of, generate  # noqa: E402

SMALL = Scale().times(0.004)  # 120 patients, 360 invoices, 1 000 lines
UNTIL = date(2026, 11, 30)


@pytest.fixture
def migrated(lgo_database_url: str) -> Iterator[Engine]:
    """The test database with the kernel's and every installed plugin's migrations."""
    kernel = Kernel(lgo_database_url, discover_installed=True)
    kernel.upgrade_database()
    yield kernel.engine
    kernel.close()


def _count(engine: Engine, table: str, pharmacy_id: int | None = None) -> int:
    where = f" WHERE pharmacy_id = {int(pharmacy_id)}" if pharmacy_id is not None else ""
    with engine.connect() as connection:
        return int(connection.scalar(text(f"SELECT COUNT(*) FROM {table}{where}")) or 0)


def test_a_pharmacy_year_has_its_volumes_and_keeps_the_invariants(migrated: Engine) -> None:
    messages: list[str] = []
    (year,) = generate(migrated, scale=SMALL, seed=7, until=UNTIL, report=messages.append)
    assert check(migrated) == []
    assert _count(migrated, "patient") == SMALL.patients
    assert _count(migrated, "invoice") == SMALL.invoices
    assert _count(migrated, "invoice_line") == SMALL.lines
    assert _count(migrated, "vaccination_note") == SMALL.vaccinations
    assert _count(migrated, "health_document") == SMALL.vaccinations + SMALL.documents
    assert _count(migrated, "ins_identity") == SMALL.patients
    assert _count(migrated, "outbox_message") >= SMALL.vaccinations + SMALL.documents
    assert year.counts["invoice_line"] == SMALL.lines and year.finess == finess_of(1)
    assert any("écrite en" in m for m in messages)  # progress is shown
    with migrated.connect() as connection:
        # Identity traits of a real file: used names, several first names, birth dates known in part, families.
        patients = connection.execute(select(Patient.used_name, Patient.first_names, Patient.vitale_rank)).all()
        assert any(p.used_name for p in patients) and any(" " in p.first_names for p in patients)
        assert any((p.vitale_rank or 0) > 1 for p in patients)
        statuses = connection.execute(text("SELECT insi_checked, document_checked FROM ins_identity")).all()
        assert {tuple(s) for s in statuses} >= {(True, True), (False, False)}
        days = {d.date() for d in connection.scalars(select(Invoice.validated_at))}
        assert min(days) >= date(2025, 11, 29) and max(days) <= UNTIL


def test_the_same_seed_gives_the_same_year_and_another_seed_another(tmp_path: Path) -> None:
    def digest(seed: int, name: str) -> str:
        kernel = Kernel(f"sqlite:///{tmp_path / name}", discover_installed=True)
        kernel.upgrade_database()
        generate(kernel.engine, scale=SMALL.times(0.5), seed=seed, until=UNTIL)
        hashed = hashlib.sha256()
        with kernel.engine.connect() as connection:
            for table in ("patient", "invoice", "invoice_line", "stock_movement", "dispensation", "ins_identity"):
                columns = [c["name"] for c in inspect(connection).get_columns(table) if c["name"] != "updated_at"]
                for row in connection.execute(text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")):
                    hashed.update(repr(tuple(row)).encode())
        kernel.close()
        return hashed.hexdigest()

    first = digest(3, "a.sqlite")
    assert digest(3, "b.sqlite") == first
    assert digest(4, "c.sqlite") != first


@pytest.mark.parametrize("lgo_backend", ["postgresql"])
def test_a_group_of_pharmacies_in_one_postgresql_database(migrated: Engine) -> None:
    years = generate(migrated, scale=SMALL.times(0.5), seed=11, pharmacies=3, until=UNTIL)
    assert len({y.pharmacy_id for y in years}) == 3 and len({y.finess for y in years}) == 3
    for year in years:
        assert check(migrated, year.pharmacy_id) == []
        assert _count(migrated, "invoice", year.pharmacy_id) == SMALL.times(0.5).invoices
        with migrated.connect() as connection:  # each pharmacy numbers its own invoices from 1
            low, high = connection.execute(
                select(func.min(Invoice.number), func.max(Invoice.number)).where(
                    Invoice.pharmacy_id == year.pharmacy_id
                )
            ).one()
        assert (low, high) == (1, SMALL.times(0.5).invoices)
    assert check(migrated) == []


def test_the_counter_bills_on_a_generated_year(migrated: Engine, lgo_database_url: str) -> None:
    (year,) = generate(migrated, scale=SMALL, seed=5, until=date.today())
    kernel = Kernel(lgo_database_url, discover_installed=False).start()
    try:
        with kernel.transaction() as session:
            product = session.scalar(
                select(Product).where(
                    Product.pharmacy_id == year.pharmacy_id, Product.list_category != ListCategory.NONE
                )
            )
            assert product is not None
            patient = session.scalar(select(Patient.id).where(Patient.pharmacy_id == year.pharmacy_id))
            assert patient is not None
            receive(session, year.pharmacy_id, product, lot_number="APRES", expiry=date(2099, 1, 1), quantity=5)
            prescription = create_prescription(
                session, year.pharmacy_id, patient, prescriber_name="Dr Suite", prescribed_on=date.today()
            ).id
            cip13 = product.cip13
        counter = Counter(kernel, year.pharmacy_id, year.operators["adjoint1"])
        billing = counter.start_billing(prescription_id=prescription)
        counter.add_product(billing, cip13, 2, lot_number="APRES")
        result = counter.end_billing(billing)
        assert result.invoice_number == SMALL.invoices + 1  # the numbering goes on where the year stopped
        assert check(kernel.engine) == []
        with kernel.transaction() as session:
            assert session.scalar(select(func.count()).select_from(InvoiceLine)) == SMALL.lines + 1
    finally:
        kernel.close()


def test_the_command_line_for_qa(tmp_path: Path) -> None:
    database = tmp_path / "officine.sqlite"
    command = [sys.executable, str(ROOT / "benchmarks" / "workload"), "--sqlite", str(database), "--scale", "0.002"]
    first = subprocess.run([*command, "--patients", "50"], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "patient : 50" in first.stderr and "Invariants respectés." in first.stderr
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)  # same FINESS, same database
    assert again.returncode == 1
    assert "Erreur : cette base contient déjà une officine générée avec ces numéros FINESS" in again.stderr
    assert "Traceback" not in again.stderr
