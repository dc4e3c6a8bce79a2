"""SOAP 1.2 envelopes for the national services (INSi, DMP), in one place.

Each service adds its own context headers (INSi's ContexteBAM and ContexteLPS) or security token (the DMP's VIHF, the
INSi assertion in INSI-MANU mode); the envelope, WS-Addressing headers and WS-Security wrapper are the same for all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def envelope(
    body: Any,
    *,
    action: str,
    message_id: str | None = None,
    to: str | None = None,
    security: Any | None = None,
    headers: Iterable[Any] = (),
    nsmap: dict[str, str] | None = None,
    action_must_understand: bool = False,
) -> Any:
    """The ``soap:Envelope`` element: ``headers`` (the service's own), then ``wsa:Action``, ``wsa:MessageID``
    (``urn:uuid:…`` unless given), ``wsa:To`` when given, ``wsse:Security`` holding ``security`` when given, and the
    ``body`` element."""
    root = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12, "wsa": WSA, **(nsmap or {})})
    header = etree.SubElement(root, f"{{{SOAP12}}}Header")
    for element in headers:
        header.append(element)
    action_element = etree.SubElement(header, f"{{{WSA}}}Action")
    if action_must_understand:
        action_element.set(f"{{{SOAP12}}}mustUnderstand", "1")
    action_element.text = action
    etree.SubElement(header, f"{{{WSA}}}MessageID").text = message_id or f"urn:uuid:{uuid.uuid4()}"
    if to is not None:
        etree.SubElement(header, f"{{{WSA}}}To").text = to
    if security is not None:
        etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE}).append(security)
    etree.SubElement(root, f"{{{SOAP12}}}Body").append(body)
    return root
