"""SOAP 1.2 envelopes with WS-Addressing and the VIHF, and MTOM/XOP multipart messages (decision 0402).

MTOM is written by hand: a ``multipart/related`` body of an ``application/xop+xml`` root part and one binary part
per document, referenced by ``xop:Include href="cid:..."``. The standard library's ``email`` generator rewrites
line endings of binary parts and zeep's MTOM support does not cover sending, so a dozen explicit lines are the
most predictable way to put exact bytes (whose SHA-1 the registry checks) on the wire.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from lgo.api import parse_untrusted, soap
from lxml import etree

SOAP, WSA, WSSE = soap.SOAP12, soap.WSA, soap.WSSE
XOP = "http://www.w3.org/2004/08/xop/include"

ACTION_ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ACTION_ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ACTION_ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
ACTION_ITI57 = "urn:ihe:iti:2010:UpdateDocumentSet"


def envelope(action: str, to: str, body: Any, vihf: Any | None) -> Any:
    """The kernel's SOAP 1.2 envelope with the DMP's addressing (``mustUnderstand`` action, ``To``) and the VIHF."""
    return soap.envelope(body, action=action, to=to, security=vihf, action_must_understand=True)


def mtom(envelope_element: Any, attachments: dict[str, bytes], action: str) -> tuple[bytes, str]:
    """``(body, content_type)`` of the MTOM message; ``attachments`` maps content ids to bytes."""
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    root_id = f"root.{uuid.uuid4().hex}@lgo"
    xml = etree.tostring(envelope_element, xml_declaration=True, encoding="UTF-8")
    parts = [
        f'--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        f"Content-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n".encode()
        + xml
        + b"\r\n"
    ]
    for cid, data in attachments.items():
        parts.append(
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{cid}>\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; start="<{root_id}>"; '
        f'start-info="application/soap+xml"; action="{action}"'
    )
    return body, content_type


def parse_message(content_type: str, body: bytes) -> tuple[Any, dict[str, bytes]]:
    """The SOAP envelope (lxml) and the attachments by content id, of an MTOM or plain SOAP message."""
    if not content_type.lower().startswith("multipart/related"):
        return parse_untrusted(body, what="réponse du DMP"), {}
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ValueError(f"multipart without boundary: {content_type}")
    delimiter = b"--" + match.group(1).encode()
    root: Any = None
    attachments: dict[str, bytes] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in head.decode("latin-1").strip().split("\r\n"))
        }
        cid = headers.get("content-id", "").strip("<>")
        part_type = headers.get("content-type", "")
        if root is None and ("xop+xml" in part_type or "soap+xml" in part_type):
            root = parse_untrusted(data, what="réponse du DMP")
        else:
            attachments[cid] = data
    if root is None:
        raise ValueError("multipart without a SOAP part")
    return root, attachments


def include_content(element: Any, attachments: dict[str, bytes]) -> bytes:
    """The bytes of an ``xds:Document`` (or ``Document``) element: XOP include or inline base64."""
    import base64

    include = element.find(f"{{{XOP}}}Include")
    if include is not None:
        return attachments[include.get("href", "").removeprefix("cid:")]
    return base64.b64decode(element.text or "")
