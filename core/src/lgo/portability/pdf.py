"""A small PDF writer for the readable copies of an export: pages of text, French accents, nothing else.

The archive holds a PDF copy of every document for people (PDLGC ``PDF/`` folder): the PDF body of a level-1 CDA is
copied as it is; a structured document and a patient's dispensing history are written here, as plain text pages
(A4, Helvetica, WinAnsi encoding). Fast enough for tens of thousands of patients, no library needed. The copies are
for reading, never for integration (the structured files are the reference).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

_WIDTH, _HEIGHT = 595, 842  # A4 in points
_MARGIN = 50
_LEADING = 13
_LINES_PER_PAGE = (_HEIGHT - 2 * _MARGIN) // _LEADING
_COLUMNS = 95


def _escape(text: str) -> bytes:
    encoded = text.encode("cp1252", errors="replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrapped(lines: Iterable[str]) -> list[tuple[str, bool]]:
    """``(text, is_heading)`` lines, long ones wrapped; a line starting with ``# `` is a heading."""
    out: list[tuple[str, bool]] = []
    for line in lines:
        heading = line.startswith("# ")
        text = line[2:] if heading else line
        pieces = textwrap.wrap(text, _COLUMNS, replace_whitespace=False, drop_whitespace=True) or [""]
        out.extend((piece, heading) for piece in pieces)
    return out


def text_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A PDF of ``lines`` (``# `` for a heading in bold), paginated, with ``title`` in its information."""
    wrapped = _wrapped([f"# {title}", "", *lines])
    pages = [wrapped[i : i + _LINES_PER_PAGE] for i in range(0, len(wrapped), _LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled once the page tree's number is known
    pages_id = add(b"")
    regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    page_ids: list[int] = []
    for number, page in enumerate(pages, start=1):
        stream = [b"BT", b"%d %d Td" % (_MARGIN, _HEIGHT - _MARGIN), b"%d TL" % _LEADING]
        for text, heading in page:
            stream.append(b"/F%d 10 Tf (%s) Tj T*" % (2 if heading else 1, _escape(text)))
        stream.append(b"/F1 8 Tf (%s) Tj" % _escape(f"page {number} / {len(pages)}"))
        stream.append(b"ET")
        content = b"\n".join(stream)
        content_id = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
                % (pages_id, _WIDTH, _HEIGHT, content_id, regular, bold)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    kids = b" ".join(b"%d 0 R" % page for page in page_ids)
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    info = add(b"<< /Title (%s) /Producer (LGO libre) >>" % _escape(title))
    out = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    offsets: list[int] = []
    position = len(out[0])
    for number, body in enumerate(objects, start=1):
        chunk = b"%d 0 obj\n%s\nendobj\n" % (number, body)
        offsets.append(position)
        out.append(chunk)
        position += len(chunk)
    xref = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)]
    xref.extend(b"%010d 00000 n \n" % offset for offset in offsets)
    out.extend(xref)
    out.append(
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, info, position)
    )
    return b"".join(out)
