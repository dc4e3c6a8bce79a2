"""Issue 24, data portability: a generated pharmacy exported (``lgo export``), imported into an empty database
(``lgo import``) and exported again gives the same contents apart from timestamps and signature, with the same
counts, and its CDA documents still pass the ANS kit — on SQLite and PostgreSQL. A tampered archive (one byte of a
patient file, a missing file, a wrong signature, a zip slip entry) is refused before anything is written. The
realistic volume (20 000 patients, 300 000 lines, 5 000 documents) is in ``benchmarks/bench_export.py``."""

from __future__ import annotations

import io
import json
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from lgo.cli import main
from lgo.documents import cda
from lgo.documents.model import HealthDocument
from lgo.domain.pharmacy import Pharmacy
from lgo.identity import IdentityNotShareable
from lgo.kernel import Kernel
from lgo.portability.exporter import export
from lgo.portability.importer import import_archive
from lgo.portability.safezip import ArchiveRefused
from lgo.portability.tables import Catalogue
from lgo.testing.cda import cda_errors
from lgo_sandbox.pki import TestAuthority
from lgo_vaccination import cda as vaccination_cda
from lgo_vaccination import codes as vaccination_codes
from sqlalchemy import Engine, func, inspect, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from workload import Scale, generate  # noqa: E402

SMALL = Scale().times(0.004)  # 120 patients, 360 invoices, 1 000 lines
UNTIL = date(2026, 11, 30)
#: Documents replaced by real notes de vaccination (the generator writes realistic envelopes, not kit-checked CDA).
REAL_DOCUMENTS = 3
#: Entries whose bytes carry the moment of the export (XDM submission time, the README's archive name).
VOLATILE = {"IHE_XDM/SUBSET01/METADATA.XML"}


def _database(backend: str, name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / name}.sqlite"
    server = request.getfixturevalue("lgo_postgres")
    return str(server.create_database(f"{name}_{uuid.uuid4().hex[:12]}"))


@dataclass
class Source:
    kernel: Kernel
    pharmacy_id: int
    authority: TestAuthority
    real_documents: dict[str, bytes]  # unique_id → the kit-checked CDA


def _kernel(url: str) -> Kernel:
    kernel = Kernel(url, discover_installed=True)
    kernel.upgrade_database()
    return kernel.start()


def _real_notes(kernel: Kernel, pharmacy_id: int) -> dict[str, bytes]:
    """Replace a few generated vaccination notes by real ones, built for the patient's qualified identity."""
    found: dict[str, bytes] = {}
    with kernel.reading() as session:
        documents = session.scalars(
            select(HealthDocument)
            .where(
                HealthDocument.pharmacy_id == pharmacy_id, HealthDocument.type_code == vaccination_codes.NOTE_TYPE[0]
            )
            .order_by(HealthDocument.id)
        ).all()
        candidates = [(d.id, d.patient_id, d.unique_id, d.set_id) for d in documents]
    pharmacist = cda.CdaPerson(rpps="99999000018", family="DURAND-DEMO", given="Claire")
    organisation = cda.CdaOrganisation(finess="991000019", name="Pharmacie du Banc", city="Villedémo")
    for document_id, patient_id, unique_id, set_id in candidates:
        try:
            identity = kernel.shareable_identity(pharmacy_id, patient_id)
        except IdentityNotShareable:
            continue
        when = datetime(2026, 10, 15, 9, 30, tzinfo=UTC)
        header = cda.CdaHeader(
            unique_id=unique_id,
            set_id=set_id,
            version=1,
            type_code=vaccination_codes.NOTE_TYPE[0],
            type_display=vaccination_codes.NOTE_TYPE[1],
            title="Note de vaccination — grippe",
            patient=identity,
            author=pharmacist,
            organisation=organisation,
            effective_time=when,
            service_event_code=(*vaccination_codes.NOTE_TYPE, vaccination_codes.OID_LOINC),
        )
        content = vaccination_cda.build(
            header,
            vaccination_cda.Vaccination(
                when, "IMMUNIZ", "VACCIN DÉMO", "69000073", "J07BB02", None, "LOT-1", "20035000", "16217701000119102",
                pharmacist,
            ),
        )  # fmt: skip
        with kernel.transaction() as session:
            session.execute(update(HealthDocument).where(HealthDocument.id == document_id).values(content=content))
        found[unique_id] = content
        if len(found) == REAL_DOCUMENTS:
            break
    return found


@pytest.fixture
def source(lgo_backend: str, lgo_home: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Source]:
    kernel = _kernel(_database(lgo_backend, "source", tmp_path, request))
    generate(kernel.engine, scale=SMALL, seed=11, until=UNTIL)
    with kernel.reading() as session:
        pharmacy = session.scalars(select(Pharmacy)).one()
    for plugin in ("ins", "vaccination"):
        kernel.enable(pharmacy.id, plugin, with_dependencies=True)
    authority = TestAuthority(tmp_path / "autorite")
    authority.organisation(finess=pharmacy.finess).store_for(kernel, pharmacy.id)
    real = _real_notes(kernel, pharmacy.id)
    assert len(real) == REAL_DOCUMENTS
    yield Source(kernel, pharmacy.id, authority, real)
    kernel.close()


@pytest.fixture
def empty(lgo_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Kernel]:
    kernel = _kernel(_database(lgo_backend, "destination", tmp_path, request))
    yield kernel
    kernel.close()


def _entries(archive: Path) -> dict[str, bytes]:
    """Every file of the archive, the inner zips opened: ``PAT00001.ZIP/INDEX.HTM`` → bytes."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(archive) as outer:
        for name in outer.namelist():
            data = outer.read(name)
            if name.endswith(".ZIP"):
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    for inner_name in inner.namelist():
                        found[f"{name}/{inner_name}"] = inner.read(inner_name)
            else:
                found[name] = data
    return found


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: int(connection.scalar(text(f'SELECT COUNT(*) FROM "{name}"')) or 0)
            for name in inspect(engine).get_table_names()
            if not name.startswith("alembic")
        }


def _journal_lines(data: bytes) -> list[str]:
    return data.decode("utf-8").splitlines()


def test_export_import_export_gives_the_same_contents_and_the_cda_still_pass_the_kit(
    source: Source, empty: Kernel, tmp_path: Path
) -> None:
    progress: list[tuple[int, int]] = []
    first = export(
        source.kernel, source.pharmacy_id, tmp_path / "premier", progress=lambda d, t: progress.append((d, t))
    )
    assert progress[-1] == (SMALL.patients, SMALL.patients)
    assert first.patients == SMALL.patients
    assert first.path.name.startswith("PA") and first.path.suffix == ".ZIP" and len(first.path.stem) == 17

    report = import_archive(empty, first.path)
    assert report.patients == SMALL.patients
    assert report.counts == {name: count for name, count in first.counts.items() if count}
    assert any("importée" in line for line in report.lines_fr())
    source.authority.organisation(finess=report.finess, tag="-dest").store_for(empty, report.pharmacy_id)
    second = export(empty, report.pharmacy_id, tmp_path / "second")

    before, after = _entries(first.path), _entries(second.path)
    assert sorted(before) == sorted(after)
    different = sorted(
        name
        for name in before
        if before[name] != after[name] and name.rsplit("/", 1)[-1] not in {"METADATA.XML", "README.TXT"}
    )
    # What differs is the moment, the signature, and the journal: the import and the certificate are traced.
    assert different == [
        "MANIFEST.XML",
        "SIGN.XML",
        "TRANSVERSE.ZIP/TRANSVERSE/JOURNAL.LOG",
        "TRANSVERSE.ZIP/TRANSVERSE/TABLES/audit_entry.jsonl",
    ]
    journal_before = _journal_lines(before["TRANSVERSE.ZIP/TRANSVERSE/JOURNAL.LOG"])
    journal_after = _journal_lines(after["TRANSVERSE.ZIP/TRANSVERSE/JOURNAL.LOG"])
    assert journal_after[: len(journal_before)] == journal_before
    added = journal_after[len(journal_before) :]
    assert any("portability.imported" in line for line in added) and len(added) <= 3
    counts_after = {k: v for k, v in second.counts.items() if k != "audit_entry"}
    assert counts_after == {k: v for k, v in first.counts.items() if k != "audit_entry"}

    # The rows of every table are there, as many as in the source (the journal has the import's entries more).
    rows_source, rows_destination = _rows(source.kernel.engine), _rows(empty.engine)
    for name, count in first.counts.items():
        assert rows_destination[name] >= count, name
    for name in ("patient", "invoice", "invoice_line", "dispensation", "health_document", "vaccination_note"):
        assert rows_destination[name] == rows_source[name], name

    # Every real CDA of the source is in a patient's archive, the same bytes, and still passes the ANS kit.
    documents = {
        name: data
        for name, data in after.items()
        if name.startswith("PAT") and "/IHE_XDM/SUBSET01/" in name and name.endswith(".XML")
        and not name.endswith("METADATA.XML")
    }  # fmt: skip
    real = [data for data in documents.values() if data in source.real_documents.values()]
    assert len(real) == REAL_DOCUMENTS
    for data in real:
        assert cda_errors(data, ["CI-SIS_VAC-NOTE_2023.01.sch"]) == []


def test_one_patients_export_holds_only_that_patient(source: Source, tmp_path: Path) -> None:
    with source.kernel.reading() as session:
        patient_id = session.scalar(select(func.min(HealthDocument.patient_id)))
    assert patient_id is not None
    result = export(source.kernel, source.pharmacy_id, tmp_path, patient_id=patient_id)
    entries = _entries(result.path)
    assert result.patients == 1
    assert [n for n in entries if n.endswith("/INDEX.HTM")] == ["PAT00001.ZIP/INDEX.HTM"]
    patients = entries["PAT00001.ZIP/CORRESP.CSV"]
    assert patients
    manifest = entries["MANIFEST.XML"].decode()
    assert "Unitaire" in manifest or "UNITAIRE" in manifest.upper()


# --- tampered archives ------------------------------------------------------------------------------------


def _rewrite(
    archive: Path, target: Path, change: dict[str, bytes | None], extra: dict[str, bytes] | None = None
) -> Path:
    """A copy of ``archive`` with entries replaced (bytes) or removed (None), and ``extra`` entries added."""
    with zipfile.ZipFile(archive) as outer, zipfile.ZipFile(target, "w") as copy:
        for info in outer.infolist():
            if info.filename in change:
                replaced = change[info.filename]
                if replaced is not None:
                    copy.writestr(info, replaced)
                continue
            copy.writestr(info, outer.read(info.filename))
        for name, data in (extra or {}).items():
            copy.writestr(zipfile.ZipInfo(name), data)
    return target


def _one_byte_changed(data: bytes, marker: bytes = b"") -> bytes:
    at = data.index(marker) + len(marker) // 2 if marker else len(data) // 2
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _tampered(kind: str, archive: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"{kind}-{archive.name}"
    with zipfile.ZipFile(archive) as outer:
        if kind == "octet":
            # One byte in the middle of a patient's archive (stored as it is in the outer one).
            return _rewrite(archive, target, {"PAT00002.ZIP": _one_byte_changed(outer.read("PAT00002.ZIP"))})
        if kind == "manquant":
            return _rewrite(archive, target, {"PAT00003.ZIP": None})
        if kind == "signature":
            return _rewrite(archive, target, {"SIGN.XML": _one_byte_changed(outer.read("SIGN.XML"), b"SignatureValue")})
        if kind == "manifeste":
            manifest = outer.read("MANIFEST.XML")
            return _rewrite(archive, target, {"MANIFEST.XML": manifest.replace(b"?>", b"?><!-- -->", 1)})
        if kind == "zip-slip":
            return _rewrite(archive, target, {}, {"../../../tmp/lgo-zip-slip.txt": b"hors de l'archive"})
        if kind == "zip-slip-interne":
            inner = io.BytesIO()
            original = zipfile.ZipFile(io.BytesIO(outer.read("PAT00001.ZIP")))
            with original, zipfile.ZipFile(inner, "w") as copy:
                for info in original.infolist():
                    copy.writestr(info, original.read(info.filename))
                copy.writestr(zipfile.ZipInfo("../../evil.sh"), b"#!/bin/sh\n")
            return _rewrite(archive, target, {"PAT00001.ZIP": inner.getvalue()})
    raise AssertionError(kind)


REFUSALS = {
    "octet": "modifiée",
    "manquant": "manque",
    "signature": "signature",
    "manifeste": "modifié après la signature",
    "zip-slip": "archive",
    "zip-slip-interne": "",
}


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_a_tampered_archive_is_refused_before_anything_is_written(
    kind: str, source: Source, empty: Kernel, tmp_path: Path
) -> None:
    archive = export(source.kernel, source.pharmacy_id, tmp_path / "export").path
    tampered = _tampered(kind, archive, tmp_path)
    before = _rows(empty.engine)
    with pytest.raises(ArchiveRefused) as refused:
        import_archive(empty, tampered)
    assert "refusée" in refused.value.message_fr or "rien n'a été" in refused.value.message_fr
    assert REFUSALS[kind] in refused.value.message_fr
    assert _rows(empty.engine) == before
    assert not Path("/tmp/lgo-zip-slip.txt").exists()


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)
def test_the_command_line_exports_and_imports_with_a_french_report(
    source: Source, empty: Kernel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    with source.kernel.reading() as session:
        finess = session.scalar(select(Pharmacy.finess).where(Pharmacy.id == source.pharmacy_id))
    monkeypatch.setenv("LGO_DATABASE_URL", str(source.kernel.engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("LGO_PHARMACY", str(finess))
    exported = runner.invoke(main, ["export", "--dossier", str(tmp_path / "cli")])
    assert exported.exit_code == 0, exported.output
    assert "dossier(s) patient" in exported.output
    archive = Path(exported.output.strip().splitlines()[-1])
    assert archive.is_file()
    with source.kernel.reading() as session:
        patient_id = session.scalar(select(func.min(HealthDocument.patient_id)))
    one = runner.invoke(main, ["export", "--patient", str(patient_id), "--dossier", str(tmp_path / "un")])
    assert one.exit_code == 0 and "1 dossier(s) patient" in one.output, one.output
    for wrong in ("abc", "999999"):
        refused_patient = runner.invoke(main, ["export", "--patient", wrong, "--dossier", str(tmp_path / "x")])
        assert refused_patient.exit_code == 1 and "Erreur : " in refused_patient.output
        assert "Traceback" not in refused_patient.output

    monkeypatch.setenv("LGO_DATABASE_URL", str(empty.engine.url.render_as_string(hide_password=False)))
    refused = runner.invoke(main, ["import", str(_tampered("octet", archive, tmp_path))])
    assert refused.exit_code == 1
    assert "Rien n'a été écrit dans la base." in refused.output
    assert _rows(empty.engine)["patient"] == 0

    checked = runner.invoke(main, ["import", "--verifier-seulement", str(archive)])
    assert checked.exit_code == 0 and "Rien n'a été écrit" in checked.output
    imported = runner.invoke(main, ["import", str(archive)])
    assert imported.exit_code == 0, imported.output
    assert "Toutes les empreintes SHA-256 correspondent au manifeste." in imported.output
    assert _rows(empty.engine)["patient"] == SMALL.patients

    again = runner.invoke(main, ["import", str(archive)])
    assert again.exit_code == 1 and "existe déjà" in again.output


def test_the_documentation_describes_every_exported_column(source: Source, tmp_path: Path) -> None:
    archive = export(source.kernel, source.pharmacy_id, tmp_path).path
    with zipfile.ZipFile(archive) as outer:
        dictionary = json.loads(outer.read("DOCUMENTATION/DICTIONNAIRE.JSON"))
    assert dictionary
    text_form = json.dumps(dictionary, ensure_ascii=False)
    for column in ("birth_name", "validated_at", "lot_number"):
        assert column in text_form


def _per_pharmacy(engine: Engine, catalogue: Catalogue) -> dict[int, dict[str, int]]:
    """Rows of each pharmacy, table by table (tables naming their pharmacy)."""
    counts: dict[int, dict[str, int]] = {}
    with engine.connect() as connection:
        for table in catalogue.tables():
            column = table.table.c[table.pharmacy_column]
            for pharmacy_id, rows in connection.execute(select(column, func.count()).group_by(column)):
                counts.setdefault(int(pharmacy_id), {})[table.name] = int(rows)
    return counts


def _crossed(engine: Engine, catalogue: Catalogue) -> list[str]:
    """References from a row of one pharmacy to a row of another (both tables naming their pharmacy)."""
    found: list[str] = []
    with engine.connect() as connection:
        for table in catalogue.tables():
            for column, target_name in table.all_references().items():
                target = catalogue.by_name.get(target_name)
                if target is None or column == table.pharmacy_column or target_name == "pharmacy":
                    continue
                source, pointed = table.table, target.table.alias("pointed")
                crossed = connection.scalar(
                    select(func.count())
                    .select_from(source.join(pointed, pointed.c.id == source.c[column]))
                    .where(pointed.c[target.pharmacy_column] != source.c[table.pharmacy_column])
                )
                if crossed:
                    found.append(f"{table.name}.{column} → {target_name}: {crossed}")
    return found


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)
def test_an_import_beside_another_pharmacy_creates_it_and_leaves_the_other_untouched(
    source: Source, empty: Kernel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group's database (``LGO_PHARMACY`` chooses the pharmacy) already holds another pharmacy: the import adds
    the archive's pharmacy with its own rows, renumbered past the other's, and changes nothing of the other one."""
    (other,) = generate(empty.engine, scale=SMALL, seed=12, until=UNTIL, first_index=2)
    catalogue = Catalogue.of(empty)
    before = _per_pharmacy(empty.engine, catalogue)
    assert list(before) == [other.pharmacy_id]
    archive = export(source.kernel, source.pharmacy_id, tmp_path / "export").path

    report = import_archive(empty, archive)

    assert report.pharmacy_id != other.pharmacy_id and report.patients == SMALL.patients
    after = _per_pharmacy(empty.engine, catalogue)
    assert after[other.pharmacy_id] == before[other.pharmacy_id]
    assert sorted(after) == sorted([other.pharmacy_id, report.pharmacy_id])
    exported = _per_pharmacy(source.kernel.engine, catalogue)[source.pharmacy_id]
    for name in ("patient", "invoice", "invoice_line", "dispensation", "health_document", "vaccination_note"):
        assert after[report.pharmacy_id][name] == exported[name], name
    assert _crossed(empty.engine, catalogue) == []
    with empty.reading() as session:
        finesses = dict(session.execute(select(Pharmacy.id, Pharmacy.finess)).all())
    assert finesses[other.pharmacy_id] == other.finess != finesses[report.pharmacy_id]

    # LGO_PHARMACY picks the imported pharmacy out of the two: its export is the archive's pharmacy again.
    monkeypatch.setenv("LGO_DATABASE_URL", str(empty.engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("LGO_PHARMACY", finesses[report.pharmacy_id])
    source.authority.organisation(finess=report.finess, tag="-beside").store_for(empty, report.pharmacy_id)
    again = CliRunner().invoke(main, ["export", "--dossier", str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    entries = _entries(next((tmp_path / "again").glob("PA*.ZIP")))
    assert f"<finess>{report.finess}</finess>" in entries["MANIFEST.XML"].decode()
    assert len([n for n in entries if n.endswith("/INDEX.HTM")]) == SMALL.patients


def test_reading_the_patients_window_by_window_writes_the_same_archive(
    source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export reads the patients a window at a time, so that its memory does not grow with them (decision
    1500): windows of 7 patients write the same archive as one window of all of them, rows of a patient who moved
    to another pharmacy in the middle of a window included (they travel as transverse rows)."""
    from lgo.domain.billing import Invoice
    from lgo.domain.patients import Patient
    from lgo.portability import exporter

    (other,) = generate(source.kernel.engine, scale=SMALL, seed=13, until=UNTIL, first_index=2)
    with source.kernel.transaction() as session:
        moved = session.scalars(
            select(Invoice.patient_id)
            .where(Invoice.pharmacy_id == source.pharmacy_id, Invoice.patient_id.is_not(None))
            .order_by(Invoice.patient_id)
            .offset(SMALL.invoices // 2)
            .limit(1)
        ).one()
        session.execute(update(Patient).where(Patient.id == moved).values(pharmacy_id=other.pharmacy_id))
        orphans = session.scalar(select(func.count()).where(Invoice.patient_id == moved)) or 0
    assert orphans > 0

    monkeypatch.setattr(exporter, "_WINDOW", 1_000_000)
    whole = export(source.kernel, source.pharmacy_id, tmp_path / "une-fenetre")
    monkeypatch.setattr(exporter, "_WINDOW", 7)
    windows = export(source.kernel, source.pharmacy_id, tmp_path / "fenetres")

    assert windows.patients == whole.patients == SMALL.patients - 1
    audit = "audit_entry"  # the first export is in the second's journal
    assert windows.counts[audit] == whole.counts[audit] + 1
    assert {k: v for k, v in windows.counts.items() if k != audit} == {
        k: v for k, v in whole.counts.items() if k != audit
    }
    volatile = {"MANIFEST.XML", "SIGN.XML", "README.TXT", "JOURNAL.LOG", "audit_entry.jsonl", "METADATA.XML"}
    before, after = _entries(whole.path), _entries(windows.path)
    assert sorted(before) == sorted(after)
    assert [n for n in before if before[n] != after[n] and n.rsplit("/", 1)[-1] not in volatile] == []
    invoices = [json.loads(line) for line in after["TRANSVERSE.ZIP/TRANSVERSE/TABLES/invoice.jsonl"].splitlines()]
    assert len([row for row in invoices if row["patient_id"] == moved]) == orphans
