"""One patient's archive ``PATNNNNN.ZIP``: an IHE XDM archive with 8.3 names (ISO 9660 level 1), as PDLGC asks.

::

    README.TXT                     who made it, how it is organised (ASCII, CRLF)
    INDEX.HTM                      XHTML: the pharmacy, links to every document and to README.TXT
    CORRESP.CSV                    each file's 8.3 name and what it was called / what it holds (mapping table)
    IHE_XDM/SUBSET01/METADATA.XML  XDS metadata (ebRIM): the submission set, one entry per document
    IHE_XDM/SUBSET01/DOCnnnnn.XML  each health document, CDA R2 exactly as produced
    IHE_XDM/SUBSET01/FHIR.JSN      identity, dispensations and invoices as a FHIR R4 Bundle (JSON)
    PDF/DOCnnnnn.PDF, PDF/FHIR.PDF a PDF copy of each of them, for people
    DONNEES/Tnnn.JSL               the patient's rows of each table (JSON lines), what an import reads
    DONNEES/Bnnnnnnn.BIN           binary values of those rows (a received document...)

Built in memory, one patient at a time: its size is that of one patient's file.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from lgo.documents import xds
from lgo.documents import xds_codes as codes
from lgo.errors import ValidationError
from lgo.identifiers import idnat_ps, idnat_structure
from lgo.identity import SharedIdentity
from lgo.portability import fhir
from lgo.portability.archive_parts import TableFiles, csv_line, readme, row_json, vendor_section
from lgo.portability.pdf import text_pdf
from lgo.portability.tables import Catalogue
from lgo.safe_xml import parse_untrusted

SUBSET = "IHE_XDM/SUBSET01/"
XHTML = "http://www.w3.org/1999/xhtml"
_MASKING = (
    ("hidden_from_patient", "INVISIBLE_PATIENT"),
    ("hidden_from_legal_representatives", "INVISIBLE_REPRESENTANTS_LEGAUX"),
    ("masked_from_professionals", "MASQUE_PS"),
)
#: Attributes of ebRIM objects that hold an object's id or point at one (renumbered so that two exports of the
#: same data write the same METADATA.XML).
_ID_ATTRIBUTES = ("id", "classifiedObject", "registryObject", "sourceObject", "targetObject")
_NAMESPACE = uuid.UUID("0b0f8a2e-8d3f-4f57-9b6a-3d8f7b6c2a41")


@dataclass(frozen=True)
class ExportContext:
    """What every patient's archive needs: the pharmacy, the catalogue, the time of the export."""

    pharmacy: fhir.PharmacyContext
    catalogue: Catalogue
    files: TableFiles
    moment: datetime
    #: The pharmacist the non-CDA entries are attributed to (titulaire): (RPPS, family name, given name).
    author: tuple[str, str, str] | None


def archive_name(number: int) -> str:
    if not 1 <= number <= 99_999:
        raise ValidationError(
            "Plus de 99 999 patients : le nommage PATNNNNN de l'archive de portabilité ne suffit pas.",
            detail=f"patient archive number {number}",
        )
    return f"PAT{number:05d}.ZIP"


def xds_patient_id(context: ExportContext, patient_id: int, identity: SharedIdentity | None) -> str:
    """The patient identifier of the manifest and of the XDS metadata: the INS when the identity is qualified,
    else the local identifier under the pharmacy's OID (``PI``)."""
    if identity is not None:
        return identity.xds_patient_id
    return f"{patient_id}^^^&{context.pharmacy.oid}.1&ISO^PI"


@dataclass
class _Document:
    row: Mapping[str, Any]
    name: str


class PatientArchive:
    """Collects one patient's files, then :meth:`build` gives the zip's bytes."""

    def __init__(self, context: ExportContext, number: int, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.context = context
        self.number = number
        self.rows = rows
        self.files: dict[str, bytes] = {}
        self.mapping: list[tuple[str, str, str]] = []
        self.documents: list[_Document] = []
        self._blobs = 0

    @property
    def archive_id(self) -> str:
        return archive_name(self.number)[:-4]

    def _binary_file(self, table: str, column: str, row: Mapping[str, Any]) -> str:
        content = bytes(row[column])
        if table == "health_document" and column == "content":
            for document in self.documents:
                if document.row is row:
                    return document.name
        self._blobs += 1
        name = f"DONNEES/B{self._blobs:07d}.BIN"
        self.files[name] = content
        self.mapping.append((name, f"{table}.{column} (ligne {row.get('id', '')})", "valeur binaire d'une ligne"))
        return name

    def build(self, identity: SharedIdentity | None) -> bytes:
        rows = self.rows
        patient_id = rows["patient"][0]["id"]
        for row in rows.get("health_document", ()):
            if row.get("content") is None:
                continue
            extension = (
                "XML"
                if row.get("mime_type") == "text/xml"
                else "PDF"
                if row.get("mime_type") == "application/pdf"
                else "BIN"
            )
            name = f"{SUBSET}DOC{len(self.documents) + 1:05d}.{extension}"
            self.documents.append(_Document(row, name))
            self.files[name] = bytes(row["content"])
            self.mapping.append(
                (name, f"health_document {row['id']} : {row['title']}", f"document de santé, {row['mime_type']}")
            )
        bundle = fhir.bundle(self.context.pharmacy, self.archive_id, rows, identity)
        self.files[f"{SUBSET}FHIR.JSN"] = fhir.bundle_bytes(bundle)
        self.mapping.append((f"{SUBSET}FHIR.JSN", "identité, délivrances et factures", "FHIR R4 Bundle (JSON)"))
        readable: list[tuple[str, str]] = []
        for document in self.documents:
            pdf_name = "PDF/" + document.name.rsplit("/", 1)[1].rsplit(".", 1)[0] + ".PDF"
            self.files[pdf_name] = pdf_copy(document.row)
            self.mapping.append((pdf_name, f"copie PDF de {document.name}", "PDF, pour la lecture"))
            readable.append((pdf_name, str(document.row["title"])))
        lines = fhir.readable_lines(self.context.pharmacy, rows, identity, readable)
        self.files["PDF/FHIR.PDF"] = text_pdf(f"Dossier du patient {self.archive_id}", lines)
        self.mapping.append(("PDF/FHIR.PDF", f"copie lisible de {SUBSET}FHIR.JSN", "PDF, pour la lecture"))
        for name in self.context.catalogue.order:
            table_rows = rows.get(name)
            if not table_rows:
                continue
            table = self.context.catalogue.by_name[name]
            file_name = self.context.files.patient_file(name)
            self.files[file_name] = b"".join(row_json(table, row, self._binary_file) for row in table_rows)
            self.mapping.append((file_name, name, f"{len(table_rows)} ligne(s) : {table.label_fr}"))
        patient_xds_id = xds_patient_id(self.context, patient_id, identity)
        self.files[f"{SUBSET}METADATA.XML"] = self._metadata(patient_xds_id, identity)
        return self._zip()

    # --- METADATA.XML -------------------------------------------------------------------------------------

    def _metadata(self, patient_xds_id: str, identity: SharedIdentity | None) -> bytes:
        request = etree.Element(f"{{{xds.LCM}}}SubmitObjectsRequest", nsmap={"lcm": xds.LCM, "rim": xds.RIM})
        objects = xds.sub(request, xds.RIM, "RegistryObjectList")
        fhir_meta = self._fhir_metadata(patient_xds_id, identity)
        set_id, _unique = xds.submission_set(
            objects, fhir_meta, source_id=self.context.pharmacy.oid, title=f"Dossier du patient {self.archive_id}"
        )
        entries: list[tuple[str, Any]] = []
        for document in self.documents:
            if not document.name.endswith(".XML"):
                continue
            meta, kind = self._document_metadata(document, patient_xds_id, fhir_meta)
            entry_id = f"urn:uuid:{uuid.uuid4()}"
            entry = xds.document_entry(
                objects, entry_id, meta, self.files[document.name], uri=document.name.removeprefix(SUBSET), kind=kind
            )
            if str(getattr(document.row["status"], "value", document.row["status"])) in ("deprecated", "replaced"):
                entry.set("status", xds.DEPRECATED)
            entries.append((entry_id, entry))
        fhir_id = f"urn:uuid:{uuid.uuid4()}"
        xds.document_entry(objects, fhir_id, fhir_meta, self.files[f"{SUBSET}FHIR.JSN"], uri="FHIR.JSN")
        for entry_id, _entry in [*entries, (fhir_id, None)]:
            xds.association(objects, xds.HAS_MEMBER, set_id, entry_id, status="Original")
        _fix_volatile_ids(request, f"{self.context.pharmacy.finess}/{patient_xds_id}")
        return bytes(etree.tostring(request, xml_declaration=True, encoding="UTF-8"))

    def _fhir_metadata(self, patient_xds_id: str, identity: SharedIdentity | None) -> xds.DocumentMetadata:
        patient = self.rows["patient"][0]
        rpps, family, given = self.context.author or ("", "", "")
        kind = codes.DOCUMENT_KINDS[codes.DISPENSATION]
        matricule, _, rest = patient_xds_id.partition("^^^&")
        return xds.DocumentMetadata(
            unique_id=f"2.25.{uuid.uuid5(_NAMESPACE, f'{self.context.pharmacy.finess}/{patient_xds_id}/FHIR').int}",
            title=f"Délivrances et factures du patient {self.archive_id}",
            type_code=kind.type_code,
            type_display=kind.type_display,
            creation_time=self.context.moment.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
            confidentiality="N",
            patient_id=patient_xds_id,
            patient_oid=rest.split("&", 1)[0],
            patient_matricule=matricule,
            patient_family=identity.birth_name if identity else patient["birth_name"],
            patient_given=identity.first_first_name if identity else patient["first_names"].split(" ")[0],
            patient_gender=identity.sex if identity else str(getattr(patient["sex"], "value", patient["sex"])),
            patient_birth=(identity.birth_date if identity else patient["birth_date"]).replace("-", ""),
            author_id=idnat_ps(rpps) if rpps else "",
            author_family=family,
            author_given=given,
            author_specialty=("G15_21", "Pharmacien"),
            organisation_id=idnat_structure(self.context.pharmacy.finess),
            organisation_name=self.context.pharmacy.name,
            legal_authenticator="",
            facility_type=("SA33", codes.FACILITY_TYPES["SA33"]),
            practice_setting=("AMBULATOIRE", codes.PRACTICE_SETTINGS["AMBULATOIRE"]),
            format=codes.MIME_SUFFICIENT_FORMAT,
            mime_type="application/fhir+json",
        )

    def _document_metadata(
        self, document: _Document, patient_xds_id: str, fallback: xds.DocumentMetadata
    ) -> tuple[xds.DocumentMetadata, codes.DocumentKind]:
        row = document.row
        masking = tuple(code for column, code in _MASKING if row.get(column))
        kind = codes.DOCUMENT_KINDS.get(row["type_code"]) or codes.DocumentKind(
            row["type_code"], row["type_display"], "11", "Synthèse"
        )
        try:
            meta = xds.from_cda(self.files[document.name], masking=masking, title=row["title"])
        except ValidationError:
            # A document the sharing rules refuse (no INS in it, unknown format): described from its row.
            moment = row.get("validated_at") or row.get("created_at") or self.context.moment
            meta = dataclasses.replace(
                fallback,
                unique_id=row["unique_id"],
                title=row["title"],
                type_code=row["type_code"],
                type_display=row["type_display"],
                creation_time=moment.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
                confidentiality=row.get("confidentiality") or "N",
                format=codes.MIME_SUFFICIENT_FORMAT,
                mime_type=row.get("mime_type") or "text/xml",
                masking=masking,
            )
        # One submission set, one patient identifier (the INS today, or the local identifier).
        return dataclasses.replace(meta, patient_id=patient_xds_id), kind

    # --- the zip -------------------------------------------------------------------------------------------

    def _zip(self) -> bytes:
        context = self.context
        pharmacy = context.pharmacy
        self.files["README.TXT"] = readme(
            f"Archive patient {self.archive_id} (IHE XDM) - portabilite des donnees d'officine",
            [
                vendor_section(pharmacy.finess, pharmacy.name),
                (
                    "Instructions",
                    [
                        ". Ouvrez INDEX.HTM dans un navigateur ; les copies PDF sont dans PDF/.",
                        ". Consultez le dossier DOCUMENTATION/ de l'archive de portabilite pour interpreter les",
                        "  donnees.",
                        ". CORRESP.CSV donne le nom d'origine ou le contenu de chaque fichier (noms 8.3).",
                    ],
                ),
                (
                    "Arborescence",
                    [
                        "     README.TXT",
                        "     INDEX.HTM",
                        "     CORRESP.CSV",
                        "     + IHE_XDM",
                        "        + SUBSET01",
                        "            METADATA.XML",
                        "            DOCnnnnn.XML   (documents CDA R2)",
                        "            FHIR.JSN       (FHIR R4 : identite, delivrances, factures)",
                        "     + PDF              (copies PDF pour la lecture)",
                        "     + DONNEES          (lignes des tables, JSON lines : ce que lit un import)",
                    ],
                ),
            ],
        )
        self.files["INDEX.HTM"] = self._index()
        mapping = [csv_line(("fichier", "nom d'origine ou contenu", "format"))]
        mapping += [csv_line(row) for row in sorted(self.mapping)]
        self.files["CORRESP.CSV"] = b"".join(mapping)
        buffer = io.BytesIO()
        moment = _local_tuple(context.moment)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for name in sorted(self.files, key=_entry_order):
                info = zipfile.ZipInfo(name, moment)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, self.files[name])
        return buffer.getvalue()

    def _index(self) -> bytes:
        nsmap: Any = {None: XHTML}
        html = etree.Element(f"{{{XHTML}}}html", nsmap=nsmap)
        html.set("lang", "fr")
        head = etree.SubElement(html, f"{{{XHTML}}}head")
        etree.SubElement(
            head, f"{{{XHTML}}}meta", {"http-equiv": "Content-Type", "content": "text/html; charset=UTF-8"}
        )
        etree.SubElement(head, f"{{{XHTML}}}title").text = f"Dossier du patient {self.archive_id}"
        body = etree.SubElement(html, f"{{{XHTML}}}body")
        pharmacy = self.context.pharmacy
        etree.SubElement(body, f"{{{XHTML}}}h1").text = f"Dossier du patient {self.archive_id}"
        etree.SubElement(
            body, f"{{{XHTML}}}p"
        ).text = f"Émetteur : {pharmacy.name} (StructIdNat {idnat_structure(pharmacy.finess)})"
        etree.SubElement(
            body, f"{{{XHTML}}}p"
        ).text = "Données de santé à caractère personnel : à conserver et transmettre de façon sécurisée."
        items = etree.SubElement(body, f"{{{XHTML}}}ul")
        links = [
            ("PDF/FHIR.PDF", "Identité, délivrances et factures (PDF)"),
            (f"{SUBSET}FHIR.JSN", "Les mêmes données (FHIR)"),
        ]
        for document in self.documents:
            pdf_name = "PDF/" + document.name.rsplit("/", 1)[1].rsplit(".", 1)[0] + ".PDF"
            links.append((pdf_name, f"{document.row['title']} (PDF)"))
            links.append((document.name, f"{document.row['title']} (CDA)"))
        for href, text in links:
            link = etree.SubElement(etree.SubElement(items, f"{{{XHTML}}}li"), f"{{{XHTML}}}a", href=href)
            link.text = text
        readme_link = etree.SubElement(etree.SubElement(body, f"{{{XHTML}}}p"), f"{{{XHTML}}}a", href="README.TXT")
        readme_link.text = "README.TXT"
        return bytes(etree.tostring(html, xml_declaration=True, encoding="UTF-8"))


def _entry_order(name: str) -> tuple[int, str]:
    first = ("README.TXT", "INDEX.HTM", "CORRESP.CSV")
    return (first.index(name), name) if name in first else (len(first), name)


def _local_tuple(moment: datetime) -> tuple[int, int, int, int, int, int]:
    from lgo.local_time import in_paris

    local = in_paris(moment)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _fix_volatile_ids(request: Any, seed: str) -> None:
    """Give every ebRIM object built here a name-based ``urn:uuid`` (in document order) instead of a random one, so
    that the metadata of the same data is the same from one export to the next."""
    renamed: dict[str, str] = {}
    for element in request.iter():
        value = element.get("id")
        if value and value.startswith("urn:uuid:") and value not in renamed:
            renamed[value] = f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{seed}/{len(renamed)}')}"
    for element in request.iter():
        for attribute in _ID_ATTRIBUTES:
            value = element.get(attribute)
            if value in renamed:
                element.set(attribute, renamed[value])
    for identifier in request.iter(f"{{{xds.RIM}}}ExternalIdentifier"):
        if identifier.get("identificationScheme") == xds.UUID["SubmissionSet.uniqueId"]:
            identifier.set("value", f"2.25.{uuid.uuid5(_NAMESPACE, f'{seed}/submission').int}")


def pdf_copy(row: Mapping[str, Any]) -> bytes:
    """The PDF copy of a health document: the PDF a level-1 CDA carries, else its text on plain pages."""
    content = bytes(row["content"])
    title = str(row["title"])
    if row.get("mime_type") == "application/pdf":
        return content
    try:
        root = parse_untrusted(content, what="document CDA")
    except ValidationError:
        return text_pdf(title, ["Le document n'est pas un XML lisible : seule sa version d'origine fait foi."])
    hl7 = {"h": xds.HL7}
    body = root.find("h:component/h:nonXMLBody/h:text", hl7)
    if body is not None:
        try:
            data = base64.b64decode("".join((body.text or "").split()), validate=True)
        except ValueError:
            data = b""
        if data.startswith(b"%PDF"):
            return data
        return text_pdf(title, ["Le corps du document n'est pas un PDF lisible : seule sa version CDA fait foi."])
    lines: list[str] = []
    for section in root.iterfind(".//h:structuredBody//h:section", hl7):
        lines += ["", "# " + (section.findtext("h:title", "", hl7) or "Section")]
        text = section.find("h:text", hl7)
        if text is not None:
            lines += [" ".join(piece.split()) for piece in text.itertext() if piece.strip()]
    return text_pdf(title, lines or ["(document sans texte)"])
