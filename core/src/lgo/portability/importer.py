"""``lgo import``: a verified archive into an empty pharmacy, all or nothing, with a French report.

Order: the archive is verified first (:mod:`lgo.portability.verify`: signature, every SHA-256, names, this server can
take it); then one transaction reads the transverse archive and each patient's archive, table by table in dependency
order, and inserts the rows in batches (a row's references are always written before it). Every ``id`` is moved by a
number per table (the table's largest id in this database; nothing in an empty one, so the ids stay those of the
archive), and every column pointing at a row is moved with it (foreign keys, declared references, typed references
such as the audit log's ``object_type`` / ``object_id``). The number of rows of each table must be the manifest's.
Any problem rolls the whole transaction back: the pharmacy is there entirely, or not at all. The patient search
words are rebuilt, PostgreSQL's sequences moved past the ids, and the import traced in the new pharmacy's journal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, text

from lgo.errors import LgoError, ValidationError
from lgo.portability import values
from lgo.portability.safezip import ArchiveRefused, SafeZip
from lgo.portability.tables import PHARMACY, Catalogue, PortableTable
from lgo.portability.verify import VerifiedArchive, open_inner, open_outer, verify

if TYPE_CHECKING:
    from lgo.kernel import Kernel

Progress = Callable[[str, int, int], None]
AUDIT_IMPORTED = "portability.imported"
_BATCH = 5000


@dataclass
class ImportReport:
    """What happened, in French, for the person who ran the import."""

    archive: str
    finess: str
    pharmacy_name: str
    pharmacy_id: int
    patients: int
    counts: dict[str, int] = field(default_factory=dict)
    signer_fr: str = ""
    authority: str = ""
    chain_checked: bool = False
    operators: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines_fr(self) -> list[str]:
        authority = {"igc-sante": "IGC-Santé", "igc-sante-test": "IGC-Santé de test"}.get(
            self.authority, self.authority
        )
        lines = [
            f"Archive {self.archive} importée : officine {self.pharmacy_name} (FINESS {self.finess}).",
            f"Signature vérifiée : {self.signer_fr}, émis par l'{authority}"
            + (" (chaîne vérifiée jusqu'aux autorités fournies)." if self.chain_checked else "."),
            "Toutes les empreintes SHA-256 correspondent au manifeste.",
            f"{self.patients} dossier(s) patient, {sum(self.counts.values())} ligne(s) en {self.seconds:.0f} s :",
        ]
        lines += [f"  {name} : {count}" for name, count in sorted(self.counts.items())]
        lines += [
            "À faire maintenant :",
            "  - donner un mot de passe provisoire à chaque opérateur (lgo equipe mot-de-passe CODE) : "
            + ", ".join(self.operators),
            "  - déposer le certificat de l'officine (page « Certificat ») ;",
            "  - saisir à nouveau les mots de passe des paramètres des modules (ils ne sont jamais exportés).",
        ]
        return lines


def import_archive(
    kernel: Kernel,
    path: Path,
    *,
    authorities: bytes | None = None,
    progress: Progress | None = None,
    verified: VerifiedArchive | None = None,
) -> ImportReport:
    """Verify then import ``path`` (see the module's docstring). A refusal raises :class:`ArchiveRefused` (or
    another French :class:`LgoError`) and leaves the database as it was."""
    started = time.perf_counter()
    catalogue = Catalogue.of(kernel)
    tell = progress or (lambda _step, _done, _total: None)
    if verified is None:
        verified = verify(
            kernel, path, authorities=authorities, catalogue=catalogue, progress=lambda d, t: tell("vérification", d, t)
        )
    report = _Importer(kernel, catalogue, verified, tell).run()
    report.seconds = time.perf_counter() - started
    return report


class _Importer:
    def __init__(self, kernel: Kernel, catalogue: Catalogue, verified: VerifiedArchive, progress: Progress) -> None:
        self.kernel = kernel
        self.catalogue = catalogue
        self.verified = verified
        self.manifest = verified.manifest
        self.progress = progress
        self.offsets: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.buffers: dict[str, list[dict[str, Any]]] = {}
        self.buffered = 0

    def run(self) -> ImportReport:
        try:
            with self.kernel.transaction() as session:
                connection = session.connection()
                self.connection = connection
                if connection.dialect.name == "sqlite":
                    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                self.offsets = self._offsets(connection)
                with open_outer(self.verified.path) as outer:
                    self._transverse(outer)
                    self._patients(outer)
                self._flush()
                self._check_counts()
                pharmacy_id = self._pharmacy_id(connection)
                self._after(connection, pharmacy_id)
                report = self._report(connection, pharmacy_id)
        except LgoError:
            raise
        except Exception as exc:  # a constraint the data breaks: the same refusal, the detail in the log
            raise ArchiveRefused(
                "Les données de l'archive ne peuvent pas être écrites dans cette base (incohérence ou contrainte "
                "refusée) : rien n'a été importé.",
                detail=f"import failed: {exc!r}"[:2000],
            ) from exc
        return report

    # --- ids ----------------------------------------------------------------------------------------------

    def _offsets(self, connection: Connection) -> dict[str, int]:
        offsets: dict[str, int] = {}
        for table in self.catalogue.tables():
            if table.id_column is not None:
                column = table.table.c[table.id_column]
                offsets[table.name] = int(connection.scalar(select(func.max(column))) or 0)
        return offsets

    def _remap(self, table: PortableTable, row: dict[str, Any], where: str) -> dict[str, Any]:
        if table.id_column is not None and row.get(table.id_column) is not None:
            row[table.id_column] += self.offsets[table.name]
        for column, target in table.all_references().items():
            value = row.get(column)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise ArchiveRefused(f"Référence invalide dans l'archive ({where}, {column}).", detail=repr(value))
            row[column] = value + self.offsets.get(target, 0)
        for type_column, id_column in table.typed_references:
            target_name = row.get(type_column)
            value = row.get(id_column)
            if (
                isinstance(target_name, str)
                and target_name in self.offsets
                and isinstance(value, str)
                and value.isdigit()
            ):
                row[id_column] = str(int(value) + self.offsets[target_name])
        return row

    # --- reading --------------------------------------------------------------------------------------------

    def _rows(self, archive: SafeZip, file_name: str, table: PortableTable) -> Iterator[dict[str, Any]]:
        """The rows of ``file_name`` decoded for ``table``: columns checked, values typed, binaries read."""
        columns = {column.name: column for column in table.table.columns}
        pending = b""
        number = 0
        for chunk in archive.chunks(file_name):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                number += 1
                yield self._decode(archive, table, line, columns, f"{file_name}, ligne {number}")
        if pending.strip():
            number += 1
            yield self._decode(archive, table, pending, columns, f"{file_name}, ligne {number}")

    def _decode(
        self, archive: SafeZip, table: PortableTable, line: bytes, columns: Mapping[str, Any], where: str
    ) -> dict[str, Any]:
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise ArchiveRefused(
                f"Ligne illisible dans l'archive ({where}) : rien n'a été importé.", detail=repr(exc)
            ) from exc
        if not isinstance(raw, dict):
            raise ArchiveRefused(f"Ligne invalide dans l'archive ({where}).", detail="not an object")
        row: dict[str, Any] = {}
        for name, value in raw.items():
            column = columns.get(name)
            if column is None or name in table.excluded:
                raise ArchiveRefused(
                    f"Colonne inconnue de ce serveur dans l'archive ({where}, {name}) : mettez le logiciel à jour "
                    "(lgo db upgrade), puis recommencez.",
                    detail=f"column {table.name}.{name}",
                )
            if values.is_binary(column.type) and isinstance(value, dict) and "fichier" in value:
                value = archive.read(str(value["fichier"]))
            else:
                value = values.decode(value, column.type, f"{where}, {name}")
            transform = table.transforms.get(name)
            row[name] = transform.import_(value) if transform is not None and value is not None else value
        for name, default in table.import_defaults.items():
            row.setdefault(name, default)
        return self._remap(table, row, where)

    # --- writing --------------------------------------------------------------------------------------------

    def _add(self, table: str, row: dict[str, Any]) -> None:
        self.buffers.setdefault(table, []).append(row)
        self.counts[table] = self.counts.get(table, 0) + 1
        self.buffered += 1
        if self.buffered >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        for name in self.catalogue.order:  # dependency order: what a row points at is written first
            rows = self.buffers.pop(name, None)
            if rows:
                self.connection.execute(insert(self.catalogue.by_name[name].table), rows)
        self.buffered = 0

    def _transverse(self, outer: SafeZip) -> None:
        self.progress("données de l'officine", 0, 1)
        inner, _digest = open_inner(outer, "TRANSVERSE.ZIP")
        with inner:
            for name in self.catalogue.order:
                file_name = f"TRANSVERSE/TABLES/{name}.jsonl"
                if inner.has(file_name):
                    for row in self._rows(inner, file_name, self.catalogue.by_name[name]):
                        self._add(name, row)
            self._flush()
        self.progress("données de l'officine", 1, 1)

    def _patients(self, outer: SafeZip) -> None:
        entries = [entry for entry in self.manifest.archives if entry.kind == "Patient"]
        files = self.manifest.table_files
        for done, entry in enumerate(entries, start=1):
            inner, digest = open_inner(outer, entry.file_name)
            with inner:
                if digest != entry.sha256:  # the file changed since it was verified
                    raise ArchiveRefused(
                        f"L'archive {entry.file_name} a changé pendant l'import : rien n'a été importé.",
                        detail="digest changed",
                    )
                for name in self.catalogue.order:
                    file_name = files.get(name)
                    if file_name and inner.has(file_name):
                        for row in self._rows(inner, file_name, self.catalogue.by_name[name]):
                            self._add(name, row)
            self.progress("dossiers patients", done, len(entries))

    # --- after ------------------------------------------------------------------------------------------------

    def _check_counts(self) -> None:
        expected = {name: rows for name, rows in self.manifest.counts.items() if rows}
        if expected != self.counts:
            differing = sorted(n for n in set(expected) | set(self.counts) if expected.get(n) != self.counts.get(n))
            raise ArchiveRefused(
                "Le nombre de lignes lues ne correspond pas au manifeste (" + ", ".join(differing) + ") : rien n'a "
                "été importé.",
                detail=f"counts {[(n, expected.get(n), self.counts.get(n)) for n in differing]}",
            )

    def _pharmacy_id(self, connection: Connection) -> int:
        table = self.catalogue.by_name[PHARMACY].table
        found = connection.scalar(select(table.c.id).where(table.c.finess == self.manifest.header.finess))
        if found is None:
            raise ArchiveRefused("L'archive ne contient pas l'officine qu'annonce son manifeste.", detail="no pharmacy")
        return int(found)

    def _after(self, connection: Connection, pharmacy_id: int) -> None:
        from lgo.domain import audit
        from lgo.domain.patient_search import rebuild

        rebuild(connection, pharmacy_id)
        if connection.dialect.name == "postgresql":
            for table in self.catalogue.tables():
                if table.id_column is None:
                    continue
                sequence = connection.scalar(
                    text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": table.id_column}
                )
                if sequence:
                    highest = f'SELECT COALESCE(MAX({table.id_column}), 0) + 1 FROM "{table.name}"'
                    connection.execute(
                        text(f"SELECT setval(:s, ({highest}), false)"),
                        {"s": sequence},
                    )
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            audit.record(
                session,
                pharmacy_id,
                AUDIT_IMPORTED,
                f"Import de l'archive {self.verified.path.name} ({self.verified.patients} dossier(s) patient), "
                f"signée par {self.verified.signature.signer_fr}.",
                actor="cli",
                object_type="pharmacy",
                object_id=pharmacy_id,
                details={"export_id": self.manifest.header.export_id, "archive": self.verified.path.name},
            )
            session.flush()

    def _report(self, connection: Connection, pharmacy_id: int) -> ImportReport:
        operators = self.catalogue.by_name["operator"].table
        codes = [
            row.code
            for row in connection.execute(
                select(operators.c.code).where(operators.c.pharmacy_id == pharmacy_id).order_by(operators.c.code)
            )
        ]
        return ImportReport(
            archive=self.verified.path.name,
            finess=self.manifest.header.finess,
            pharmacy_name=self.manifest.header.pharmacy_name,
            pharmacy_id=pharmacy_id,
            patients=self.verified.patients,
            counts=dict(self.counts),
            signer_fr=self.verified.signature.signer_fr,
            authority=self.verified.signature.authority,
            chain_checked=self.verified.signature.chain_checked,
            operators=codes,
        )


def refusal_lines_fr(exc: LgoError, path: Path) -> list[str]:
    """The report of a refused import."""
    return [f"Import refusé : {exc.message_fr}", f"Archive : {path}", "Rien n'a été écrit dans la base."]


__all__ = ["ImportReport", "ValidationError", "import_archive", "refusal_lines_fr"]
