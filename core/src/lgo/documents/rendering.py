"""A readable, escaped French HTML rendering of a CDA document (level 1 PDF or structured body).

Not the ANS stylesheet: enough for a pharmacist to read a document retrieved from the DMP — the header (type,
date, patient, author, structure), then the PDF (embedded) or each section's title and narrative text.

Never active content: every text is escaped; of the narrative block only a few structural elements are kept, without
any attribute (no link, no style, no reference to a multimedia part); the PDF of a level 1 document is best served
from its own address (``pdf_url``, with :data:`PDF_HEADERS`), shown in a frame of the page.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from lxml import etree

from lgo.safe_xml import parse_untrusted

NS = "urn:hl7-org:v3"
_N = {"h": NS}
_NARRATIVE_BLOCKS = {
    "paragraph": "p",
    "list": "ul",
    "item": "li",
    "table": "table",
    "thead": "thead",
    "tbody": "tbody",
    "tr": "tr",
    "th": "th",
    "td": "td",
    "br": "br",
    "caption": "caption",
}


def _date(value: str | None) -> str:
    if not value:
        return "date inconnue"
    if len(value) >= 12:
        return f"{value[6:8]}/{value[4:6]}/{value[:4]} {value[8:10]}:{value[10:12]}"
    if len(value) >= 8:
        return f"{value[6:8]}/{value[4:6]}/{value[:4]}"
    return value


def _name(element: Any) -> str:
    if element is None:
        return ""
    family = element.find("h:family[@qualifier='BR']", _N)
    if family is None:
        family = element.find("h:family", _N)
    given = element.find("h:given", _N)
    return " ".join(x.text or "" for x in (given, family) if x is not None).strip()


def _narrative(element: Any) -> str:
    """Narrative block → HTML, escaping every text (tags outside the known blocks keep only their text)."""
    out: list[str] = []
    out.append(escape(element.text or ""))
    for child in element:
        if not isinstance(child.tag, str):
            out.append(escape(child.tail or ""))
            continue
        local = etree.QName(child).localname
        tag = _NARRATIVE_BLOCKS.get(local)
        inner = _narrative(child)
        if tag == "br":
            out.append("<br>")
        elif tag:
            out.append(f"<{tag}>{inner}</{tag}>")
        else:
            out.append(inner)
        out.append(escape(child.tail or ""))
    return "".join(out)


#: Headers of a PDF served for a page of the site: shown in a frame of the same site, never run as a page of it.
PDF_HEADERS = {
    "Content-Disposition": 'inline; filename="document.pdf"',
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
}


def pdf_of(cda: bytes) -> bytes | None:
    """The PDF of a CDA level 1 document (``nonXMLBody``), or ``None`` (structured body, other media, bad base64)."""
    root = parse_untrusted(cda, what="document CDA")
    body = root.find("h:component/h:nonXMLBody/h:text", _N)
    if body is None or body.get("mediaType", "application/pdf") != "application/pdf":
        return None
    try:
        data = base64.b64decode("".join((body.text or "").split()), validate=True)
    except ValueError:
        return None
    return data if data.startswith(b"%PDF") else None


def render_html(cda: bytes, *, pdf_url: str | None = None) -> str:
    """The document as escaped HTML. ``pdf_url``: where the page serves the PDF of a level 1 document (shown in a
    frame); without it the PDF is embedded as a ``data:`` address (for pages whose security policy allows it)."""
    root = parse_untrusted(cda, what="document CDA")
    code = root.find("h:code", _N)
    title = root.findtext("h:title", "", _N) or (code.get("displayName", "") if code is not None else "") or "Document"
    patient = root.find("h:recordTarget/h:patientRole", _N)
    patient_name = _name(patient.find("h:patient/h:name", _N)) if patient is not None else ""
    patient_id = patient.find("h:id", _N) if patient is not None else None
    birth = patient.find("h:patient/h:birthTime", _N) if patient is not None else None
    author = root.find("h:author/h:assignedAuthor", _N)
    author_name = _name(author.find("h:assignedPerson/h:name", _N)) if author is not None else ""
    organisation = author.findtext("h:representedOrganization/h:name", "", _N) if author is not None else ""
    rows = [
        ("Type", code.get("displayName", code.get("code", "")) if code is not None else ""),
        ("Date", _date(str(root.xpath("string(h:effectiveTime/@value)", namespaces=_N)) or None)),
        ("Patient", patient_name),
        ("INS", patient_id.get("extension", "") if patient_id is not None else ""),
        ("Né(e) le", _date(birth.get("value")) if birth is not None and birth.get("value") else ""),
        ("Auteur", author_name),
        ("Structure", organisation),
        ("Version", str(root.xpath("string(h:versionNumber/@value)", namespaces=_N)) or "1"),
    ]
    html = [
        '<article class="cda" lang="fr">',
        f"<h1>{escape(title)}</h1>",
        '<table class="cda-entete">',
        *(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in rows if value),
        "</table>",
    ]
    body = root.find("h:component/h:nonXMLBody/h:text", _N)
    if body is not None and pdf_url is not None:
        html.append(
            f'<iframe class="cda-pdf" src="{escape(pdf_url)}" title="{escape(title)} (PDF)" width="100%" '
            'height="800"></iframe>'
        )
        html.append(f'<p><a href="{escape(pdf_url)}">Ouvrir le PDF seul</a></p>')
    elif body is not None:
        media = body.get("mediaType", "application/pdf")
        data = "".join((body.text or "").split())
        try:
            base64.b64decode(data, validate=True)
        except ValueError:
            data = ""
        html.append(
            f'<object data="data:{escape(media)};base64,{data}" type="{escape(media)}" width="100%" '
            'height="800"><p>Document PDF : ouvrez-le avec le lien ci-dessous.</p></object>'
        )
        html.append(
            f'<p><a download="document.pdf" href="data:{escape(media)};base64,{data}">'
            "Télécharger le document PDF</a></p>"
        )
    for section in root.iterfind(".//h:structuredBody/h:component/h:section", _N):
        html.append("<section>")
        html.append(f"<h2>{escape(section.findtext('h:title', '', _N))}</h2>")
        text = section.find("h:text", _N)
        if text is not None:
            html.append(f"<div>{_narrative(text)}</div>")
        for sub in section.iterfind("h:component/h:section", _N):
            html.append(f"<h3>{escape(sub.findtext('h:title', '', _N))}</h3>")
            sub_text = sub.find("h:text", _N)
            if sub_text is not None:
                html.append(f"<div>{_narrative(sub_text)}</div>")
        html.append("</section>")
    html.append("</article>")
    return "\n".join(html)
