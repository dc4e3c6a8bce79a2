"""``lgo export``: a whole pharmacy (``MASSIF``) or one patient (``UNITAIRE``) to ``PAAAAMMJJThhmmss.ZIP``.

One read transaction (a consistent snapshot) and one cursor per table, each returning the pharmacy's rows ordered by
the patient they belong to: the transverse rows come first, then the cursors advance together, patient by patient,
and each patient's archive is built and written before the next is read. Nothing grows with the number of patients
but the outer archive on disk (:mod:`lgo.portability.zipstream` streams its directory too) and ``MANIFEST.XML``
(written as it goes). The archive is written as ``….ZIP.partial`` and renamed when complete and signed; the export
is traced in the audit log, failed or not.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from lgo.db import READ_ONLY, utcnow
from lgo.portability import fhir, manifest, signature
from lgo.portability.archive_parts import TableFiles, readme, stamp, vendor_section
from lgo.portability.documentation import documentation_files
from lgo.portability.patient_archive import ExportContext, PatientArchive, archive_name, xds_patient_id
from lgo.portability.tables import PATIENT, Catalogue, Window
from lgo.portability.transverse import TransverseArchive
from lgo.portability.zipstream import ZipStreamWriter, being_written

if TYPE_CHECKING:
    from lgo.identity import SharedIdentity
    from lgo.kernel import Kernel
    from lgo.xml_signature import Signer

#: ``progress(done, total)``: patients written so far, out of how many.
Progress = Callable[[int, int], None]

#: Rows each table's cursor holds at once. Every patient table has its cursor open for a whole window, so this is
#: paid once per table: small, or the buffers of the tables that grow with the patients fill up to it as they grow.
_BATCH = 100
#: Patients read at once (decision 1500). Each window's tables are sorted by patient on their own, and SQLite keeps
#: each sort in memory up to its PMA size (1 MB): with windows, a sort holds one window's rows whatever the number
#: of patients. Each window reads the tables again, so not too small either.
_WINDOW = 500
#: SQLite's page cache of the export's connection (KiB). It also bounds each cursor's sort buffer, one per table,
#: which otherwise fills to the 2 MB default (decision 1500).
_SQLITE_CACHE_KIB = 512
AUDIT_EXPORTED = "portability.exported"
AUDIT_FAILED = "portability.export_failed"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    export_id: str
    export_type: str
    patients: int
    counts: dict[str, int] = field(default_factory=dict)
    size: int = 0
    seconds: float = 0.0

    @property
    def summary_fr(self) -> str:
        rows = sum(self.counts.values())
        return (
            f"Archive {self.path.name} écrite : {self.patients} dossier(s) patient, {rows} ligne(s) de données, "
            f"{self.size / 2**20:.1f} Mo, en {self.seconds:.0f} s."
        )


def export(
    kernel: Kernel,
    pharmacy_id: int,
    folder: Path,
    *,
    patient_id: int | None = None,
    operator_id: int | None = None,
    actor: str = "cli",
    comments: str = "",
    progress: Progress | None = None,
) -> ExportResult:
    """Export the pharmacy (or one patient) into ``folder``; the archive's path is in the result."""
    started = time.perf_counter()
    moment = utcnow()
    export_id = str(uuid.uuid4())
    export_type = manifest.MASSIF if patient_id is None else manifest.UNITAIRE
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"PA{stamp(moment)}.ZIP"
    what_fr = "de toute l'officine" if patient_id is None else "d'un patient"
    try:
        counted = _Export(kernel, pharmacy_id, path, moment, export_id, patient_id, comments, progress).run()
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}.partial").unlink()
        details = {"export_id": export_id, "error": repr(exc)[:300]}
        _trace(
            kernel,
            pharmacy_id,
            AUDIT_FAILED,
            f"Export {what_fr} en échec : {exc}",
            operator_id,
            actor,
            patient_id,
            details,
        )
        raise
    result = ExportResult(
        path,
        export_id,
        export_type,
        counted.patients,
        counted.counts,
        path.stat().st_size,
        time.perf_counter() - started,
    )
    done: dict[str, Any] = {"export_id": export_id, "archive": path.name, "patients": result.patients}
    done["type"] = export_type
    message = f"Export {what_fr} : archive {path.name} ({result.patients} dossier(s) patient)."
    _trace(kernel, pharmacy_id, AUDIT_EXPORTED, message, operator_id, actor, patient_id, done)
    return result


def remove_interrupted(folder: Path) -> list[str]:
    """Remove the ``PA….ZIP.partial`` files no export is writing any more (its process was stopped mid-way: a
    failing export removes its own) and return their names, for a French notice."""
    removed = []
    for partial in sorted(folder.glob("PA*.ZIP.partial")):
        if not being_written(partial):
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
                removed.append(partial.name)
    return removed


def _trace(
    kernel: Kernel,
    pharmacy_id: int,
    action: str,
    message: str,
    operator_id: int | None,
    actor: str,
    patient_id: int | None,
    details: dict[str, Any],
) -> None:
    from lgo.domain import audit

    with kernel.transaction() as session:
        audit.record(
            session,
            pharmacy_id,
            action,
            message,
            actor=actor,
            operator_id=operator_id,
            patient_id=patient_id,
            object_type="pharmacy",
            object_id=pharmacy_id,
            details=details,
        )


@contextlib.contextmanager
def snapshot(kernel: Kernel) -> Iterator[Connection]:
    """One read transaction for the whole export: every table read as of the same moment."""
    engine = kernel.engine
    if engine.dialect.name == "postgresql":
        options: dict[str, Any] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    else:
        options = {READ_ONLY: True}  # SQLite: a deferred BEGIN, which never takes the write lock
    with engine.connect().execution_options(**options) as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
            connection.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
            connection.commit()  # ends the transaction the pragmas began: the snapshot's comes next
        try:
            with connection.begin():
                yield connection
        finally:
            if sqlite:  # the connection goes back to the pool, for others
                connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache or -2000)}")
                connection.commit()


class _Cursor:
    """A table's rows, one at a time, with a look at the next one."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = rows
        self._next: Any = None
        self._done = False
        self._advance()

    def _advance(self) -> None:
        try:
            self._next = next(self._rows)
        except StopIteration:
            self._next, self._done = None, True

    def peek(self) -> Any:
        return self._next

    def take(self) -> dict[str, Any]:
        row = dict(self._next._mapping)
        self._advance()
        return row


@dataclass
class _Counts:
    patients: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class _Export:
    def __init__(
        self,
        kernel: Kernel,
        pharmacy_id: int,
        path: Path,
        moment: datetime,
        export_id: str,
        patient_id: int | None,
        comments: str,
        progress: Progress | None,
    ) -> None:
        self.kernel = kernel
        self.pharmacy_id = pharmacy_id
        self.path = path
        self.moment = moment
        self.export_id = export_id
        self.patient_id = patient_id
        self.comments = comments
        self.progress = progress or (lambda _done, _total: None)
        self.catalogue = Catalogue.of(kernel)
        self.files = TableFiles(self.catalogue)

    def _signer(self) -> Signer:
        from lgo.domain.certificates import pharmacy_credential
        from lgo.xml_signature import KeySigner

        with self.kernel.transaction() as session:
            return KeySigner.from_credential(pharmacy_credential(session, self.pharmacy_id))

    def run(self) -> _Counts:
        signer = self._signer()  # before anything is written: no certificate, no export
        partial = Path(f"{self.path}.partial")
        with snapshot(self.kernel) as connection:
            context = self._context(connection)
            header = manifest.Header(
                export_id=self.export_id,
                export_type=manifest.MASSIF if self.patient_id is None else manifest.UNITAIRE,
                export_date=self.moment.isoformat(),
                comments=self.comments,
                finess=context.pharmacy.finess,
                pharmacy_name=context.pharmacy.name,
                test_mode=self._test_mode,
            )
            writer = manifest.ManifestWriter(header)
            result = _Counts()
            with ZipStreamWriter(partial, self.moment) as archive:
                archive.add_bytes("README.TXT", self._readme(context))
                patient_files = {
                    name: self.files.patient_file(name)
                    for name in self.catalogue.order
                    if self.catalogue.is_patient_owned(name)
                }
                for name, data in documentation_files(self.kernel, self.catalogue, patient_files).items():
                    archive.add_bytes(name, data)
                transverse = TransverseArchive(context, patient_id=self.patient_id)
                self._write_patients(connection, context, archive, writer, transverse, result)
                with transverse.build(connection, self.pharmacy_id) as built:
                    written = archive.add_file("TRANSVERSE.ZIP", built)
                writer.add(manifest.ArchiveEntry("TRANSV", "Transverse", None, written.size, written.sha256))
                for name, count in transverse.counts.items():
                    result.counts[name] = result.counts.get(name, 0) + count
                modules = {info.name: info.version for info in self.kernel.registry.loaded()}
                with writer.finish(
                    result.counts, self.catalogue.owners, modules, result.patients, patient_files
                ) as manifest_file:
                    listed = archive.add_file("MANIFEST.XML", manifest_file)
                digests = {"MANIFEST.XML": listed.sha256, "TRANSVERSE.ZIP": written.sha256}
                archive.add_bytes("SIGN.XML", signature.sign(signer, digests))
        os.replace(partial, self.path)
        return result

    # --- context ----------------------------------------------------------------------------------------

    def _context(self, connection: Connection) -> ExportContext:
        from lgo.domain.pharmacy import Operator, Pharmacy, Role
        from lgo.domain.products import Product
        from lgo.domain.stock import Lot

        pharmacy = connection.execute(select(Pharmacy.__table__).where(Pharmacy.id == self.pharmacy_id)).one()
        self._test_mode = bool(pharmacy.test_mode)

        def by_id(model: Any, *columns: str) -> dict[int, Mapping[str, Any]]:
            """The pharmacy's rows of a reference table, only the columns the documents name (the catalogue stays
            in memory for the whole export: its size, not the patients', sets the export's memory)."""
            table = model.__table__
            query = select(table.c.id, *(table.c[c] for c in columns)).where(table.c.pharmacy_id == self.pharmacy_id)
            return {row.id: dict(row._mapping) for row in connection.execute(query)}

        operators = by_id(Operator, "code", "first_name", "last_name", "role", "rpps")
        titulaire = next(
            (
                o
                for o in sorted(operators.values(), key=lambda o: o["id"])
                if o["role"] == Role.TITULAIRE and o.get("rpps")
            ),
            next((o for o in operators.values() if o.get("rpps")), None),
        )
        return ExportContext(
            pharmacy=fhir.PharmacyContext(
                finess=pharmacy.finess,
                name=pharmacy.name,
                products=by_id(Product, "cip13", "label"),
                lots=by_id(Lot, "lot_number", "expiry"),
                operators=operators,
            ),
            catalogue=self.catalogue,
            files=self.files,
            moment=self.moment,
            author=(titulaire["rpps"], titulaire["last_name"], titulaire["first_name"]) if titulaire else None,
        )

    def _readme(self, context: ExportContext) -> bytes:
        pharmacy = context.pharmacy
        return readme(
            f"Archive de portabilite PA{stamp(self.moment)}.ZIP - {pharmacy.name}",
            [
                vendor_section(pharmacy.finess, pharmacy.name),
                (
                    "Instructions",
                    [
                        ". Consultez le dossier DOCUMENTATION\\ pour interpreter les donnees (dictionnaire, fichiers,",
                        "  parametres).",
                        ". MANIFEST.XML liste chaque archive avec sa taille et son empreinte SHA-256 ; SIGN.XML est la",
                        "  signature XAdES du manifeste et de TRANSVERSE.ZIP par le certificat de l'officine.",
                        ". Chaque PATNNNNN.ZIP est une archive IHE XDM : ouvrez son INDEX.HTM.",
                        ". Pour reprendre les donnees dans LGO libre : lgo import <archive> (base vide).",
                    ],
                ),
                (
                    "Arborescence",
                    [
                        "     README.TXT",
                        "     MANIFEST.XML",
                        "     SIGN.XML",
                        "     + DOCUMENTATION",
                        "        DICTIONNAIRE.HTM  DICTIONNAIRE.JSON  FICHIERS.HTM  PARAMETRES.HTM",
                        "     + TRANSVERSE.ZIP",
                        "     + PAT00001.ZIP",
                        "     + PAT00002.ZIP ...",
                    ],
                ),
            ],
        )

    # --- rows ---------------------------------------------------------------------------------------------

    def _tables(self) -> list[str]:
        """The tables this export reads: all of them, or for one patient its tables and the reference data."""
        return [
            name
            for name in self.catalogue.order
            if self.patient_id is None or self.catalogue.is_patient_owned(name) or self.catalogue.by_name[name].shared
        ]

    def _windows(self, connection: Connection) -> Iterator[Window]:
        """The pharmacy's patients, :data:`_WINDOW` at a time: each window's rows are read and sorted on their own, so
        the database's sorts (SQLite keeps up to 1 MB of each in memory) cover one window, whatever the number of
        patients. The last one ends at the largest id, for rows that point at a patient of another pharmacy."""
        if self.patient_id is not None:
            yield Window(self.patient_id - 1, self.patient_id)
            return
        table = self.catalogue.by_name[PATIENT].table
        window = Window()
        while True:
            query = select(table.c.id).where(table.c.pharmacy_id == self.pharmacy_id, table.c.id > window.after)
            until = connection.scalar(query.order_by(table.c.id).offset(_WINDOW - 1).limit(1))
            if until is None:
                yield window
                return
            yield Window(window.after, until)
            window = Window(after=until)

    def _total_patients(self, connection: Connection) -> int:
        if self.patient_id is not None:
            return 1
        table = self.catalogue.by_name[PATIENT].table
        return int(
            connection.scalar(select(func.count()).select_from(table).where(table.c.pharmacy_id == self.pharmacy_id))
            or 0
        )

    def _identity(self, patient_id: int) -> SharedIdentity | None:
        from lgo.identity import IdentityNotShareable

        try:
            return self.kernel.shareable_identity(self.pharmacy_id, patient_id)
        except IdentityNotShareable:
            return None

    def _write_patients(
        self,
        connection: Connection,
        context: ExportContext,
        archive: ZipStreamWriter,
        writer: manifest.ManifestWriter,
        transverse: TransverseArchive,
        result: _Counts,
    ) -> None:
        total = self._total_patients(connection)
        streaming = connection.execution_options(stream_results=True, yield_per=_BATCH)
        tables = self._tables()
        owned = [name for name in tables if self.catalogue.is_patient_owned(name)]
        for name in tables:  # a single patient's export has no transverse row of a patient's table
            if self.patient_id is None or name not in owned:
                for row in streaming.execute(self.catalogue.transverse_query(name, self.pharmacy_id)):
                    transverse.add(name, _plain(dict(row._mapping)))
        self.progress(0, total)
        for window in self._windows(connection):
            cursors = {
                name: _Cursor(iter(streaming.execute(self.catalogue.rows_query(name, self.pharmacy_id, window=window))))
                for name in owned
            }
            self._write_window(cursors, context, archive, writer, transverse, result, total)

    def _write_window(
        self,
        cursors: dict[str, _Cursor],
        context: ExportContext,
        archive: ZipStreamWriter,
        writer: manifest.ManifestWriter,
        transverse: TransverseArchive,
        result: _Counts,
        total: int,
    ) -> None:
        """The archives of a window's patients, from its cursors (by owner, then id) read side by side."""
        patients = cursors[PATIENT]
        while patients.peek() is not None:
            owner = patients.peek().lgo_owner
            rows: dict[str, list[dict[str, Any]]] = {PATIENT: [_plain(patients.take())]}
            for name, cursor in cursors.items():
                if name == PATIENT:
                    continue
                while (row := cursor.peek()) is not None and row.lgo_owner <= owner:
                    if row.lgo_owner < owner:  # its patient is not one of the pharmacy's: kept, as transverse
                        transverse.add(name, _plain(cursor.take()))
                    else:
                        rows.setdefault(name, []).append(_plain(cursor.take()))
            result.patients += 1
            for name, table_rows in rows.items():
                result.counts[name] = result.counts.get(name, 0) + len(table_rows)
            identity = self._identity(owner)
            data = PatientArchive(context, result.patients, rows).build(identity)
            written = archive.add_bytes(archive_name(result.patients), data, compress=False)
            writer.add(
                manifest.ArchiveEntry(
                    written.name[:-4], "Patient", xds_patient_id(context, owner, identity), written.size, written.sha256
                )
            )
            self.progress(result.patients, total)
        for name, cursor in cursors.items():  # rows of patients that are not the pharmacy's, after the window's last
            while cursor.peek() is not None:
                transverse.add(name, _plain(cursor.take()))


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("lgo_owner", None)
    return row
