"""Issue 24, REMU NUM: the indicators computed on a generated pharmacy-year match an expectation computed by hand
from the rows (Paris months, cancelled invoices out), per month and for the year, on SQLite and PostgreSQL; a month
boundary in Paris time; the misses list exactly the cases counted against; ``lgo indicateurs`` and its CSV."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from lgo.cli import main
from lgo.indicators import CATALOGUE, Period, Tally
from lgo.kernel import Kernel
from lgo.local_time import PARIS
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from workload import Scale, generate  # noqa: E402

SMALL = Scale().times(0.004)
UNTIL = date(2026, 11, 30)
TODAY = date(2026, 12, 15)
MEASURING = ("eordonnance", "vaccination", "dmp", "mssante")


@pytest.fixture
def pharmacy(lgo_database_url: str) -> Iterator[tuple[Kernel, int]]:
    kernel = Kernel(lgo_database_url, discover_installed=True)
    kernel.upgrade_database()
    kernel.start()
    generate(kernel.engine, scale=SMALL, seed=5, until=UNTIL)
    with kernel.engine.begin() as connection:
        pharmacy_id = int(connection.scalar(text("SELECT id FROM pharmacy")) or 0)
        # Some RVA acts at the pharmacist-prescribed fee and one cancelled invoice, so that every case is there.
        connection.execute(text("UPDATE invoice_line SET unit_price_cents = 960 WHERE act_code = 'RVA' AND id % 3 = 0"))
        first = connection.scalar(text("SELECT MIN(id) FROM invoice WHERE prescription_id IS NOT NULL"))
        number = int(connection.scalar(text("SELECT MAX(number) FROM invoice")) or 0) + 1
        connection.execute(
            text(
                "INSERT INTO invoice (pharmacy_id, number, patient_id, prescription_id, operator_id, total_cents, "
                "amo_cents, amc_cents, patient_cents, validated_at, cancels_id) SELECT pharmacy_id, :n, patient_id, "
                "prescription_id, operator_id, -total_cents, -amo_cents, -amc_cents, -patient_cents, validated_at, "
                "id FROM invoice WHERE id = :id"
            ),
            {"n": number, "id": first},
        )
    for plugin in MEASURING:
        kernel.enable(pharmacy_id, plugin, with_dependencies=True)
    yield kernel, pharmacy_id
    kernel.close()


def _month(moment: datetime) -> int:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PARIS).month


def _in_2026(moment: datetime) -> bool:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PARIS).year == 2026


def _expected(kernel: Kernel, pharmacy_id: int) -> dict[str, dict[int, Tally]]:
    """The indicators by hand: plain rows, Python loops, Paris months."""
    with kernel.engine.connect() as connection:
        invoices = connection.execute(
            text(
                "SELECT id, patient_id, prescription_id, validated_at, cancels_id FROM invoice WHERE pharmacy_id = :p"
            ),
            {"p": pharmacy_id},
        ).all()
        sources = dict(connection.execute(text("SELECT id, source FROM prescription")).all())
        lines = connection.execute(
            text("SELECT invoice_id, quantity, unit_price_cents FROM invoice_line WHERE act_code = 'RVA'")
        ).all()
        documents = connection.execute(
            text(
                "SELECT id, validated_at FROM health_document WHERE pharmacy_id = :p AND status = 'validated' "
                "AND type_code IN ('78601-2', '56445-0', '83869-8')"
            ),
            {"p": pharmacy_id},
        ).all()
        sent = {
            row[0] for row in connection.execute(text("SELECT document_id FROM dmp_submission WHERE status = 'sent'"))
        }
    cancelled = {row.cancels_id for row in invoices if row.cancels_id is not None}
    counted = {row.id: row for row in invoices if row.cancels_id is None and row.id not in cancelled}

    def as_dt(value: object) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    tallies: dict[str, Counter[tuple[int, str]]] = {code: Counter() for code in ("on", "rva", "dmp")}
    for row in counted.values():
        at = as_dt(row.validated_at)
        if row.prescription_id is None or not _in_2026(at) or sources[row.prescription_id] == "protocole":
            continue
        tallies["on"][(_month(at), "d")] += 1
        tallies["on"][(_month(at), "n")] += sources[row.prescription_id] == "ordonnance_numerique"
    for invoice_id, quantity, price in lines:
        row = counted.get(invoice_id)
        if row is None or not _in_2026(as_dt(row.validated_at)):
            continue
        month = _month(as_dt(row.validated_at))
        tallies["rva"][(month, "d")] += quantity
        tallies["rva"][(month, "n")] += quantity if price >= 960 else 0
    for document_id, validated_at in documents:
        if validated_at is None or not _in_2026(as_dt(validated_at)):
            continue
        month = _month(as_dt(validated_at))
        tallies["dmp"][(month, "d")] += 1
        tallies["dmp"][(month, "n")] += document_id in sent
    codes = {"on": "ordonnance_numerique", "rva": "vaccination_rva", "dmp": "dmp_accompagnements"}
    return {
        codes[key]: {month: Tally(counter[(month, "n")], counter[(month, "d")]) for month in range(1, 13)}
        for key, counter in tallies.items()
    }


def test_the_indicators_match_the_hand_computed_ones_per_month_and_for_the_year(pharmacy: tuple[Kernel, int]) -> None:
    kernel, pharmacy_id = pharmacy
    expected = _expected(kernel, pharmacy_id)
    reports = {r.definition.code: r for r in kernel.indicators(pharmacy_id).report(2026, today=TODAY)}
    assert [r for r in reports] == [d.code for d in CATALOGUE]
    for code, months in expected.items():
        report = reports[code]
        assert report.state == "measured", code
        assert [m.tally for m in report.months] == [months[month] for month in range(1, 13)], code
        year = sum(months.values(), Tally(0, 0))
        assert report.total is not None and report.total.tally == year, code
        assert year.denominator > 0, code
    assert reports["ordonnance_numerique"].total.tally.numerator > 0  # type: ignore[union-attr]
    assert reports["vaccination_rva"].total.tally.numerator > 0  # type: ignore[union-attr]
    # The year's status against the threshold (70 % for the socle; strictly above 25 % for RVA in 2026).
    on = reports["ordonnance_numerique"]
    assert on.total is not None and on.total.tally is not None and on.total.tally.rate is not None
    assert on.total.status == ("reached" if on.total.tally.rate >= 70 else "missed")
    assert reports["vaccination_rva"].threshold == 25.0
    # No module measures the FSE rate here: said in French, never a plugin's name.
    assert reports["fse"].state == "unavailable" and "SESAM-Vitale" in reports["fse"].state_fr


def test_the_misses_are_the_cases_counted_against(pharmacy: tuple[Kernel, int]) -> None:
    kernel, pharmacy_id = pharmacy
    board = kernel.indicators(pharmacy_id)
    year = Period(2026, None)
    for code in ("ordonnance_numerique", "vaccination_rva", "dmp_accompagnements", "mssante_echanges"):
        (report,) = board.report(2026, today=TODAY, codes=[code])
        assert report.total is not None and report.total.tally is not None
        tally = report.total.tally
        misses = board.misses(code, year, limit=100_000)
        if code == "vaccination_rva":  # one line per act, quantities of 1 in the generated data
            assert len(misses) <= tally.denominator - tally.numerator
        else:
            assert len(misses) == tally.denominator - tally.numerator, code
        assert all(m.reason_fr and m.reference_fr for m in misses)
    paper = board.misses("ordonnance_numerique", Period(2026, 3))
    assert paper and all("Ordonnance papier" in m.reason_fr and m.patient_fr for m in paper)


def test_a_month_is_a_paris_month(pharmacy: tuple[Kernel, int]) -> None:
    """An invoice at 23:30 UTC on 31 January is a February dispensation in Paris (00:30)."""
    kernel, pharmacy_id = pharmacy
    board = kernel.indicators(pharmacy_id)
    before = {
        m.period.month: m.tally for m in board.report(2026, today=TODAY, codes=["ordonnance_numerique"])[0].months
    }
    with kernel.engine.begin() as connection:
        invoice = connection.scalar(
            text(
                "SELECT i.id FROM invoice i JOIN prescription p ON p.id = i.prescription_id WHERE p.source = "
                "'ordonnance_numerique' AND i.cancels_id IS NULL ORDER BY i.id DESC LIMIT 1"
            )
        )
        connection.execute(
            text("UPDATE invoice SET validated_at = :at WHERE id = :id"),
            {"at": datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "id": invoice},
        )
    after = {m.period.month: m.tally for m in board.report(2026, today=TODAY, codes=["ordonnance_numerique"])[0].months}
    moved = [month for month in range(1, 13) if before[month] != after[month]]
    assert 2 in moved and 1 not in moved
    assert after[2] is not None and before[2] is not None and after[2].numerator == before[2].numerator + 1


def test_lgo_indicateurs_prints_the_year_and_writes_the_csv(
    pharmacy: tuple[Kernel, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel, _pharmacy_id = pharmacy
    monkeypatch.setenv("LGO_DATABASE_URL", kernel.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    shown = runner.invoke(main, ["indicateurs", "--annee", "2026"])
    assert shown.exit_code == 0, shown.output
    assert "Ordonnance numérique (socle)" in shown.output and "seuil 70,0 %" in shown.output
    assert "Non mesuré : aucun module installé ne le mesure" in shown.output  # the FSE rate
    table = tmp_path / "remu.csv"
    written = runner.invoke(main, ["indicateurs", "--annee", "2026", "--csv", str(table)])
    assert written.exit_code == 0, written.output
    rows = table.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("indicateur;code;periode")
    assert len(rows) == 1 + len(CATALOGUE) * 13
    assert any(";ordonnance_numerique;mars 2026;" in row for row in rows)
    misses = tmp_path / "manques.csv"
    detail = runner.invoke(
        main,
        ["indicateurs", "--annee", "2026", "--mois", "3", "--manques", "ordonnance_numerique", "--csv", str(misses)],
    )
    assert detail.exit_code == 0, detail.output
    assert "Ordonnance papier" in misses.read_text(encoding="utf-8")
    unknown = runner.invoke(main, ["indicateurs", "--manques", "inconnu"])
    assert unknown.exit_code == 1 and "Indicateur inconnu" in unknown.output
