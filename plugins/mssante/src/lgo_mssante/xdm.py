"""The IHE XDM archive of an MSSanté message (``IHE_XDM.ZIP``): packing the pharmacy's documents, and reading a
received archive without trusting it.

Layout (IHE ITI TF-1 §16, XDM on e-mail): ``INDEX.HTM`` and ``README.TXT`` at the root, then
``IHE_XDM/SUBSET01/METADATA.XML`` (an ebRIM ``SubmitObjectsRequest``: the submission set with its intended
recipients, one document entry per document with its ``URI``) and the documents ``DOC0001.XML``… beside it. The XDS
metadata are the kernel's (:mod:`lgo.documents.xds`), shared with the DMP.

A received archive is read with limits: entry names are checked before anything is read (zip slip), the number of
entries, each entry's size and the total are capped while decompressing, not taken from the headers (zip bomb).
"""

from __future__ import annotations

import io
import posixpath
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lgo.api import ValidationError, xds
from lxml import etree

from lgo_mssante.safe_xml import HostileContent, parse

SUBSET = "IHE_XDM/SUBSET01/"
ARCHIVE_NAME = "IHE_XDM.ZIP"
MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_RATIO = 200


@dataclass(frozen=True)
class OutgoingDocument:
    cda: bytes
    title: str


@dataclass(frozen=True)
class ReceivedDocument:
    name: str
    cda: bytes
    unique_id: str
    title: str
    type_code: str


XHTML = "http://www.w3.org/1999/xhtml"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lgo-mssante")
    except PackageNotFoundError:
        return "inconnue"


def _readme(sender: str, product: str, product_version: str) -> bytes:
    """README.TXT as IHE ITI TF-2 (XDM media) asks: who made the media and how to reach them, the application
    (name and version), and how the media is organised; plain text, its encoding stated in its first line."""
    lines = (
        "Jeu de caractères : UTF-8",
        "",
        "Archive IHE XDM (ITI-32, échange de documents de santé par messagerie sécurisée MSSanté).",
        "",
        f"Créée par : {sender}",
        f"Contact : {sender} (messagerie sécurisée de santé de l'expéditeur)",
        f"Application : {product}",
        f"Version de l'application : {product_version}",
        "",
        "Organisation de l'archive :",
        "  INDEX.HTM                       sommaire lisible dans un navigateur",
        "  README.TXT                      ce fichier",
        "  IHE_XDM/SUBSET01/METADATA.XML   métadonnées XDS (ebRIM) du lot de documents",
        "  IHE_XDM/SUBSET01/DOCnnnn.XML    les documents CDA R2",
        "",
        "Aucune application de visualisation n'est incluse : ouvrez INDEX.HTM.",
    )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _index(documents: Sequence[OutgoingDocument], sender: str) -> bytes:
    """INDEX.HTM: well-formed XHTML (IHE XDM) listing README.TXT and every document of the subset."""
    nsmap: Any = {None: XHTML}
    html = etree.Element(f"{{{XHTML}}}html", nsmap=nsmap)
    html.set("lang", "fr")
    html.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    head = etree.SubElement(html, f"{{{XHTML}}}head")
    etree.SubElement(head, f"{{{XHTML}}}meta", {"http-equiv": "Content-Type", "content": "text/html; charset=UTF-8"})
    etree.SubElement(head, f"{{{XHTML}}}title").text = "Documents transmis"
    body = etree.SubElement(html, f"{{{XHTML}}}body")
    etree.SubElement(body, f"{{{XHTML}}}h1").text = "Documents transmis"
    etree.SubElement(body, f"{{{XHTML}}}p").text = f"Expéditeur : {sender}"
    items = etree.SubElement(body, f"{{{XHTML}}}ul")
    for number, document in enumerate(documents, start=1):
        link = etree.SubElement(etree.SubElement(items, f"{{{XHTML}}}li"), f"{{{XHTML}}}a")
        link.set("href", f"IHE_XDM/SUBSET01/DOC{number:04d}.XML")
        link.text = document.title
    readme = etree.SubElement(etree.SubElement(body, f"{{{XHTML}}}p"), f"{{{XHTML}}}a", href="README.TXT")
    readme.text = "README.TXT"
    # No DOCTYPE: a receiver that refuses DTDs in what it is sent (as this project does) still reads it.
    return bytes(etree.tostring(html, xml_declaration=True, encoding="UTF-8"))


def build(
    documents: Sequence[OutgoingDocument],
    *,
    source_id: str,
    sender: str,
    recipients: Sequence[str],
    product: str = "LGO libre",
    product_version: str | None = None,
) -> bytes:
    """The ``IHE_XDM.ZIP`` bytes for one patient's documents (each CDA must carry the patient's INS);
    ``source_id`` is the OID of the sending software instance."""
    if not documents:
        raise ValidationError("Aucun document à envoyer.", detail="empty XDM")
    request = etree.Element(f"{{{xds.LCM}}}SubmitObjectsRequest", nsmap={"lcm": xds.LCM, "rim": xds.RIM})
    objects = xds.sub(request, xds.RIM, "RegistryObjectList")
    metas = [xds.from_cda(d.cda, title=d.title) for d in documents]
    set_id, _unique = xds.submission_set(
        objects,
        metas[0],
        source_id=source_id,
        intended_recipients=[f"||^^Internet^{address}" for address in recipients],
    )
    for number, (document, meta) in enumerate(zip(documents, metas, strict=True), start=1):
        entry_id = f"urn:uuid:{uuid.uuid4()}"
        xds.document_entry(objects, entry_id, meta, document.cda, uri=f"DOC{number:04d}.XML")
        xds.association(objects, xds.HAS_MEMBER, set_id, entry_id, status="Original")
    metadata = etree.tostring(request, xml_declaration=True, encoding="UTF-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("INDEX.HTM", _index(documents, sender))
        archive.writestr("README.TXT", _readme(sender, product, product_version or _version()))
        archive.writestr(f"{SUBSET}METADATA.XML", metadata)
        for number, document in enumerate(documents, start=1):
            archive.writestr(f"{SUBSET}DOC{number:04d}.XML", document.cda)
    return buffer.getvalue()


def _check_name(name: str) -> None:
    normalised = posixpath.normpath(name.replace("\\", "/"))
    if (
        name.startswith(("/", "\\"))
        or ":" in name
        or normalised.startswith("..")
        or "/../" in f"/{normalised}/"
        or "\x00" in name
    ):
        raise HostileContent(
            "L'archive IHE_XDM contient un chemin dangereux : elle est refusée.", detail=f"zip slip entry {name!r}"
        )


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO:
        raise HostileContent(
            "L'archive IHE_XDM a un taux de compression anormal : elle est refusée.",
            detail=f"ratio {info.file_size}/{info.compress_size} for {info.filename}",
        )
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(65536):
                size += len(chunk)
                budget[0] -= len(chunk)
                if size > MAX_ENTRY_BYTES or budget[0] < 0:
                    raise HostileContent(
                        "L'archive IHE_XDM est trop volumineuse une fois décompressée : refusée.",
                        detail=f"{info.filename} exceeds the decompression limits",
                    )
                chunks.append(chunk)
    except HostileContent:
        raise
    except Exception as exc:  # zipfile fails in many ways on forged headers (ValueError, struct.error…)
        # Corrupt data, a bad CRC, an encrypted entry, an unknown compression, an offset before the start of the
        # file: unreadable, not processed.
        raise ValidationError(
            "Un fichier de l'archive IHE_XDM est illisible (corrompu ou chiffré).", detail=f"{info.filename}: {exc!r}"
        ) from exc
    return b"".join(chunks)


def read(data: bytes) -> list[ReceivedDocument]:
    """The documents of a received archive, in METADATA.XML's order; hostile archives raise
    :class:`HostileContent`, unreadable ones :class:`ValidationError`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, but also ValueError, struct.error… on forged directories
        raise ValidationError("La pièce jointe IHE_XDM.ZIP n'est pas une archive lisible.", detail=repr(exc)) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise HostileContent(
                "L'archive IHE_XDM contient trop de fichiers : elle est refusée.", detail=f"{len(infos)} entries"
            )
        for info in infos:
            _check_name(info.filename)
        by_name = {info.filename.upper(): info for info in infos}
        budget = [MAX_TOTAL_BYTES]
        metadata_names = sorted(n for n in by_name if n.startswith("IHE_XDM/") and n.endswith("/METADATA.XML"))
        if not metadata_names:
            raise ValidationError("L'archive IHE_XDM ne contient pas de METADATA.XML.", detail="no METADATA.XML")
        received: list[ReceivedDocument] = []
        for metadata_name in metadata_names:
            folder = metadata_name.rsplit("/", 1)[0] + "/"
            root = parse(_read_entry(archive, by_name[metadata_name], budget), what="METADATA.XML")
            for entry in root.iter(f"{{{xds.RIM}}}ExtrinsicObject"):
                uri = entry.findtext(f"{{{xds.RIM}}}Slot[@name='URI']/{{{xds.RIM}}}ValueList/{{{xds.RIM}}}Value")
                if not uri:
                    continue
                _check_name(uri)
                if len(received) >= MAX_ENTRIES or any(d.name == uri for d in received):
                    raise HostileContent(
                        "L'archive IHE_XDM annonce trop de documents ou plusieurs fois le même : elle est refusée.",
                        detail=f"{len(received)} documents, then {uri!r}",
                    )
                document_info = by_name.get((folder + uri).upper())
                if document_info is None:
                    raise ValidationError(
                        "Un document annoncé dans METADATA.XML manque dans l'archive.", detail=f"missing {folder}{uri}"
                    )
                content = _read_entry(archive, document_info, budget)
                cda = parse(content, what=uri)
                title = cda.findtext(f"{{{xds.HL7}}}title") or uri
                code = cda.find(f"{{{xds.HL7}}}code")
                identifier = cda.find(f"{{{xds.HL7}}}id")
                received.append(
                    ReceivedDocument(
                        name=uri,
                        cda=content,
                        title=title,
                        type_code=code.get("code", "") if code is not None else "",
                        unique_id=(identifier.get("root", "") if identifier is not None else ""),
                    )
                )
        return received
