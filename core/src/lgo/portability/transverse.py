"""``TRANSVERSE.ZIP``: the pharmacy's data outside the patients' files.

::

    README.TXT
    TRANSVERSE/TABLES/<table>.jsonl         rows without a patient (pharmacy, team, catalogue, lots, receptions,
                                            settings without secrets, anonymous sales, the journal's other entries)
    TRANSVERSE/FICHIERS/<table>-<id>-<column>.bin   their binary values
    TRANSVERSE/JOURNAL.LOG                  the whole audit log, one syslog line (RFC 5424) per entry
    TRANSVERSE/PARAMETRES.JSON              modules, providers and settings, readable, without secrets
    TRANSVERSE/ORDONNANCIER.CSV             the ordonnancier as one readable table

Rows arrive while the patients are exported (each table's transverse rows first, then any row whose patient is
not one of the pharmacy's): they are kept in temporary files, one per table, and the archive is put together at the
end, into a temporary file of its own. Memory stays that of a few buffers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Connection, select

from lgo.portability.archive_parts import csv_line, readme, row_json, vendor_section

if TYPE_CHECKING:
    from lgo.portability.patient_archive import ExportContext

_CHUNK = 1024 * 1024
#: Syslog facility 13 (log audit), severity 6 (informational).
_PRI = 13 * 8 + 6
#: SD-ID of the structured data (private enterprise number 32473: the one RFC 5612 reserves for documentation).
_SD_ID = "lgo@32473"


def _sd_value(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def syslog_line(finess: str, row: Mapping[str, Any], operator_code: str | None) -> str:
    """One audit entry as an RFC 5424 line: ``<110>1 2026-03-01T09:30:00.000000+00:00 FINESS lgo - action [lgo@32473
    id="…" operateur="…" patient="…" objet="table:id" acteur="…"] message``."""
    params = [f'id="{row["id"]}"', f'acteur="{_sd_value(row["actor"])}"']
    if operator_code:
        params.append(f'operateur="{_sd_value(operator_code)}"')
    if row.get("patient_id") is not None:
        params.append(f'patient="{row["patient_id"]}"')
    if row.get("object_type"):
        params.append(f'objet="{_sd_value(row["object_type"])}:{_sd_value(row.get("object_id") or "")}"')
    message = " ".join(str(row.get("message_fr") or "").split())
    action = str(row["action"]).replace(" ", "_")[:32] or "-"
    return f"<{_PRI}>1 {row['at'].isoformat()} {finess} lgo - {action} [{_SD_ID} {' '.join(params)}] {message}\n"


class TransverseArchive:
    """Collects the transverse rows, then :meth:`build` writes TRANSVERSE.ZIP to a temporary file."""

    def __init__(self, context: ExportContext, *, patient_id: int | None = None) -> None:
        self.context = context
        self.patient_id = patient_id
        self._tables: dict[str, BinaryIO] = {}
        self._blobs: list[tuple[str, bytes]] = []
        self.counts: dict[str, int] = {}

    def add(self, table_name: str, row: Mapping[str, Any]) -> None:
        table = self.context.catalogue.by_name[table_name]
        handle = self._tables.get(table_name)
        if handle is None:
            handle = self._tables[table_name] = tempfile.TemporaryFile()  # noqa: SIM115
        handle.write(row_json(table, row, self._blob))
        self.counts[table_name] = self.counts.get(table_name, 0) + 1

    def _blob(self, table: str, column: str, row: Mapping[str, Any]) -> str:
        name = f"TRANSVERSE/FICHIERS/{table}-{row.get('id', len(self._blobs))}-{column}.bin"
        self._blobs.append((name, bytes(row[column])))
        return name

    def build(self, connection: Connection, pharmacy_id: int) -> BinaryIO:
        context = self.context
        out: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - the caller's
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            archive.writestr(self._info("README.TXT"), self._readme())
            for name in context.catalogue.order:
                handle = self._tables.get(name)
                if handle is None:
                    continue
                handle.seek(0)
                with archive.open(self._info(context.files.transverse_file(name)), "w", force_zip64=True) as target:
                    shutil.copyfileobj(handle, target, _CHUNK)
                handle.close()
            for name, data in self._blobs:
                archive.writestr(self._info(name), data)
            with archive.open(self._info("TRANSVERSE/JOURNAL.LOG"), "w", force_zip64=True) as target:
                self._journal(connection, pharmacy_id, target)
            archive.writestr(self._info("TRANSVERSE/PARAMETRES.JSON"), self._settings(connection, pharmacy_id))
            with archive.open(self._info("TRANSVERSE/ORDONNANCIER.CSV"), "w", force_zip64=True) as target:
                self._ordonnancier(connection, pharmacy_id, target)
        out.seek(0)
        return out

    def _info(self, name: str) -> zipfile.ZipInfo:
        from lgo.portability.patient_archive import _local_tuple

        info = zipfile.ZipInfo(name, _local_tuple(self.context.moment))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def _readme(self) -> bytes:
        pharmacy = self.context.pharmacy
        return readme(
            "Archive transverse - portabilite des donnees d'officine",
            [
                vendor_section(pharmacy.finess, pharmacy.name),
                (
                    "Instructions",
                    [
                        ". Consultez le dossier DOCUMENTATION/ de l'archive de portabilite pour interpreter les",
                        "  donnees.",
                        ". TRANSVERSE/TABLES contient les lignes sans patient, une table par fichier (JSON lines).",
                    ],
                ),
                (
                    "Arborescence",
                    [
                        "     README.TXT",
                        "     + TRANSVERSE",
                        "        + TABLES            (<table>.jsonl)",
                        "        + FICHIERS          (valeurs binaires)",
                        "          JOURNAL.LOG       (journal d'audit, syslog RFC 5424)",
                        "          PARAMETRES.JSON   (modules et parametres, sans secrets)",
                        "          ORDONNANCIER.CSV  (l'ordonnancier, lisible)",
                    ],
                ),
            ],
        )

    def _journal(self, connection: Connection, pharmacy_id: int, target: Any) -> None:
        from lgo.domain.audit import AuditEntry

        table = AuditEntry.__table__
        query = select(table).where(table.c.pharmacy_id == pharmacy_id)
        if self.patient_id is not None:
            query = query.where(table.c.patient_id == self.patient_id)
        operators = self.context.pharmacy.operators
        finess = self.context.pharmacy.finess
        buffer: list[str] = []
        for row in connection.execution_options(stream_results=True, yield_per=5000).execute(
            query.order_by(table.c.id)
        ):
            operator = operators.get(row.operator_id or 0)
            buffer.append(syslog_line(finess, dict(row._mapping), operator["code"] if operator else None))
            if len(buffer) >= 2000:
                target.write("".join(buffer).encode("utf-8"))
                buffer.clear()
        target.write("".join(buffer).encode("utf-8"))

    def _settings(self, connection: Connection, pharmacy_id: int) -> bytes:
        from lgo.domain.plugin_state import PluginActivation, PluginSettings, ProviderSelection
        from lgo.portability.kernel_tables import _without_secrets

        modules: dict[str, Any] = {}
        activations = select(PluginActivation.__table__).where(PluginActivation.pharmacy_id == pharmacy_id)
        for row in connection.execute(activations):
            modules.setdefault(row.plugin, {})["actif"] = bool(row.enabled)
        for row in connection.execute(
            select(PluginSettings.__table__).where(PluginSettings.pharmacy_id == pharmacy_id)
        ):
            modules.setdefault(row.plugin, {})["parametres"] = _without_secrets(row.values)
        providers = {
            row.capability: row.provider
            for row in connection.execute(
                select(ProviderSelection.__table__).where(ProviderSelection.pharmacy_id == pharmacy_id)
            )
        }
        document = {
            "modules": dict(sorted(modules.items())),
            "fournisseurs": dict(sorted(providers.items())),
            "secrets": "Les mots de passe et le certificat ne sont jamais exportés : saisissez-les à nouveau.",
        }
        return json.dumps(document, ensure_ascii=False, indent=1, default=str).encode("utf-8")

    def _ordonnancier(self, connection: Connection, pharmacy_id: int, target: Any) -> None:
        from lgo.domain.dispensing import Dispensation, Prescription
        from lgo.domain.patients import Patient
        from lgo.local_time import in_paris

        d, p, r = Dispensation.__table__, Patient.__table__, Prescription.__table__
        corrected = d.alias("corrected")
        query = (
            select(
                d, p.c.birth_name, p.c.first_names, r.c.prescriber_name, r.c.source, corrected.c.number.label("fixes")
            )
            .join(p, p.c.id == d.c.patient_id)
            .join(r, r.c.id == d.c.prescription_id)
            .outerjoin(corrected, corrected.c.id == d.c.corrects_id)
            .where(d.c.pharmacy_id == pharmacy_id)
            .order_by(d.c.number)
        )
        if self.patient_id is not None:
            query = query.where(d.c.patient_id == self.patient_id)
        pharmacy = self.context.pharmacy
        target.write(
            csv_line(
                (
                    "numero",
                    "date_heure_paris",
                    "patient_id",
                    "patient",
                    "cip13",
                    "produit",
                    "quantite",
                    "lot",
                    "prescripteur",
                    "ordonnance",
                    "operateur",
                    "corrige_la_ligne",
                    "motif",
                )
            )
        )
        buffer: list[bytes] = []
        for row in connection.execution_options(stream_results=True, yield_per=5000).execute(query):
            product = pharmacy.products.get(row.product_id, {})
            lot = pharmacy.lots.get(row.lot_id or 0)
            operator = pharmacy.operators.get(row.operator_id, {})
            buffer.append(
                csv_line(
                    (
                        row.number,
                        in_paris(row.validated_at).strftime("%d/%m/%Y %H:%M"),
                        row.patient_id,
                        f"{row.birth_name} {row.first_names}",
                        product.get("cip13", ""),
                        product.get("label", ""),
                        row.quantity,
                        lot["lot_number"] if lot else "",
                        row.prescriber_name,
                        str(getattr(row.source, "value", row.source)),
                        operator.get("code", ""),
                        row.fixes or "",
                        row.correction_reason,
                    )
                )
            )
            if len(buffer) >= 2000:
                target.write(b"".join(buffer))
                buffer.clear()
        target.write(b"".join(buffer))
