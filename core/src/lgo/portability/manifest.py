"""``MANIFEST.XML``: what the export holds, for a program — written as the patients are exported (its memory does not
grow with their number), read back before an import.

Shape (PDLGC ``pdlgc-manifest``, adapted: the exported structure is a pharmacy, row counts per table added so that
an import can prove it read everything)::

    <Manifest formatVersion="1">
      <exportId/> <exportType>MASSIF|UNITAIRE</exportType> <exportStatus>COMPLETE</exportStatus> <exportDate/>
      <comments/>
      <author> <lgcSoftwareVendor/> <lgcSystem/> <structure> <idNatStruct/> <finess/> <name/> <testMode/> </structure>
      </author>
      <Archives> <Archive> <archiveid/> <type>Patient|Transverse</type> <patientId/> <size/> <hash/> </Archive>…
      </Archives>
      <statistics> <patientArchiveCount/> <transverseArchiveCount/>
        <table name="…" rows="…" plugin="…" file="DONNEES/Tnnn.JSL"/>… </statistics>
      <modules> <module name="…" version="…"/>… </modules>
    </Manifest>
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from lxml import etree

from lgo.portability import FORMAT_VERSION
from lgo.portability.archive_parts import PRODUCT, PUBLISHER, PUBLISHER_CONTACT, software_version
from lgo.portability.safezip import ArchiveRefused
from lgo.safe_xml import parse_untrusted

MASSIF = "MASSIF"
UNITAIRE = "UNITAIRE"


@dataclass(frozen=True)
class ArchiveEntry:
    archive_id: str
    kind: str  # "Patient" or "Transverse"
    patient_id: str | None
    size: int
    sha256: str

    @property
    def file_name(self) -> str:
        return "TRANSVERSE.ZIP" if self.kind == "Transverse" else f"{self.archive_id}.ZIP"


@dataclass
class Header:
    export_id: str
    export_type: str
    export_date: str
    comments: str
    finess: str
    pharmacy_name: str
    test_mode: bool


class ManifestWriter:
    """Streams MANIFEST.XML to a temporary file: the header first, one ``Archive`` per call, the statistics last."""

    def __init__(self, header: Header) -> None:
        self.header = header
        self.file: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed by finish()'s caller
        self._context = etree.xmlfile(self.file, encoding="UTF-8")
        self._xf = self._context.__enter__()
        self._xf.write_declaration()
        self._root = self._xf.element("Manifest", formatVersion=FORMAT_VERSION)
        self._root.__enter__()
        self._xf.write("\n")
        for tag, text in (
            ("exportId", header.export_id),
            ("exportType", header.export_type),
            ("exportStatus", "COMPLETE"),
            ("exportDate", header.export_date),
            ("comments", header.comments),
        ):
            self._leaf(tag, text)
        self._xf.write(self._author(), pretty_print=True)
        self._archives = self._xf.element("Archives")
        self._archives.__enter__()
        self._xf.write("\n")

    def _leaf(self, tag: str, text: str) -> None:
        element = etree.Element(tag)
        element.text = text
        element.tail = "\n"
        self._xf.write(element)

    def _author(self) -> Any:
        header = self.header
        author = etree.Element("author")
        vendor = etree.SubElement(author, "lgcSoftwareVendor")
        etree.SubElement(vendor, "name").text = PUBLISHER
        contact = etree.SubElement(vendor, "contact")
        etree.SubElement(contact, "name").text = "Portabilité"
        telecom = etree.SubElement(contact, "telecom")
        etree.SubElement(telecom, "system").text = "url"
        etree.SubElement(telecom, "value").text = PUBLISHER_CONTACT
        etree.SubElement(author, "lgcSystem").text = f"{PRODUCT} {software_version()}"
        structure = etree.SubElement(author, "structure")
        etree.SubElement(structure, "idNatStruct").text = f"1{header.finess}"
        etree.SubElement(structure, "finess").text = header.finess
        etree.SubElement(structure, "name").text = header.pharmacy_name
        etree.SubElement(structure, "testMode").text = "true" if header.test_mode else "false"
        return author

    def add(self, entry: ArchiveEntry) -> None:
        element = etree.Element("Archive")
        for tag, text in (
            ("archiveid", entry.archive_id),
            ("type", entry.kind),
            ("patientId", entry.patient_id),
            ("size", str(entry.size)),
            ("hash", entry.sha256),
        ):
            if text is not None:
                etree.SubElement(element, tag).text = text
        element.tail = "\n"
        self._xf.write(element)

    def finish(
        self,
        counts: Mapping[str, int],
        owners: Mapping[str, str],
        modules: Mapping[str, str],
        patients: int,
        files: Mapping[str, str],
    ) -> BinaryIO:
        """The statistics and the end of the manifest; the whole file, at its start, for the caller to copy (one line
        per patient: it stays on disk) and close."""
        self._archives.__exit__(None, None, None)
        self._xf.write("\n")
        statistics = etree.Element("statistics")
        etree.SubElement(statistics, "patientArchiveCount").text = str(patients)
        etree.SubElement(statistics, "transverseArchiveCount").text = "1"
        for name in sorted(set(counts) | set(files)):
            attributes = {"name": name, "rows": str(counts.get(name, 0)), "plugin": owners.get(name, "kernel")}
            if name in files:
                attributes["file"] = files[name]
            etree.SubElement(statistics, "table", attributes)
        self._xf.write(statistics, pretty_print=True)
        listing = etree.Element("modules")
        for name in sorted(modules):
            etree.SubElement(listing, "module", name=name, version=modules[name])
        self._xf.write(listing, pretty_print=True)
        self._root.__exit__(None, None, None)
        self._context.__exit__(None, None, None)
        self.file.seek(0)
        return self.file


@dataclass
class Manifest:
    header: Header
    archives: list[ArchiveEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    table_owners: dict[str, str] = field(default_factory=dict)
    #: The file holding a table's rows in a patient's archive (``DONNEES/T004.JSL``).
    table_files: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    format_version: str = FORMAT_VERSION


def read(data: bytes) -> Manifest:
    """MANIFEST.XML parsed without trusting it (French :class:`ArchiveRefused` when malformed)."""
    try:
        root = parse_untrusted(data, what="MANIFEST.XML")
    except Exception as exc:
        raise ArchiveRefused(
            "MANIFEST.XML n'est pas un XML lisible : l'archive est refusée.", detail=repr(exc)
        ) from exc
    if root.tag != "Manifest":
        raise ArchiveRefused("MANIFEST.XML n'est pas un manifeste d'archive de portabilité.", detail=str(root.tag))
    version = root.get("formatVersion", "")
    if version != FORMAT_VERSION:
        raise ArchiveRefused(
            f"Version d'archive {version or 'inconnue'} : ce logiciel lit la version {FORMAT_VERSION}.",
            detail=f"formatVersion {version!r}",
        )

    def text(path: str, required: bool = True) -> str:
        value = root.findtext(path)
        if value is None and required:
            raise ArchiveRefused(f"MANIFEST.XML incomplet ({path} manque) : l'archive est refusée.", detail=path)
        return value or ""

    header = Header(
        export_id=text("exportId"),
        export_type=text("exportType"),
        export_date=text("exportDate"),
        comments=text("comments", required=False),
        finess=text("author/structure/finess"),
        pharmacy_name=text("author/structure/name"),
        test_mode=text("author/structure/testMode") == "true",
    )
    if header.export_type not in (MASSIF, UNITAIRE):
        raise ArchiveRefused("Type d'export inconnu dans MANIFEST.XML.", detail=header.export_type)
    manifest = Manifest(header)
    for element in root.iterfind("Archives/Archive"):
        try:
            entry = ArchiveEntry(
                archive_id=element.findtext("archiveid") or "",
                kind=element.findtext("type") or "",
                patient_id=element.findtext("patientId"),
                size=int(element.findtext("size") or "-1"),
                sha256=(element.findtext("hash") or "").lower(),
            )
        except ValueError as exc:
            raise ArchiveRefused("MANIFEST.XML contient une taille invalide.", detail=repr(exc)) from exc
        if entry.kind not in ("Patient", "Transverse") or len(entry.sha256) != 64:
            raise ArchiveRefused("MANIFEST.XML décrit une archive invalide.", detail=f"{entry}")
        manifest.archives.append(entry)
    for element in root.iterfind("statistics/table"):
        name = element.get("name", "")
        try:
            manifest.counts[name] = int(element.get("rows", ""))
        except ValueError as exc:
            raise ArchiveRefused("MANIFEST.XML contient un nombre de lignes invalide.", detail=name) from exc
        manifest.table_owners[name] = element.get("plugin", "kernel")
        if element.get("file"):
            manifest.table_files[name] = element.get("file", "")
    for element in root.iterfind("modules/module"):
        manifest.modules[element.get("name", "")] = element.get("version", "")
    return manifest
