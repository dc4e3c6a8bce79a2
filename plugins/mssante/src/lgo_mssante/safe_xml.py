"""Parsing XML that came from outside (an XDM archive received by mail): no DTD, no entity, no network.

A document that declares a DTD is refused outright rather than parsed with entities switched off: neither
METADATA.XML nor a CDA document has any reason to carry one, and refusing is what stops "billion laughs" and
external-entity attacks whatever the parser's defaults are.
"""

from __future__ import annotations

import re
from typing import Any

from lgo.api import ValidationError
from lxml import etree

_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class HostileContent(ValidationError):
    """The content looks like an attack (entities, zip slip, zip bomb, oversize): refused, never processed."""


def parse(data: bytes, *, what: str) -> Any:
    if _DECLARATIONS.search(data[:65536]) or _DECLARATIONS.search(data):
        raise HostileContent(
            f"Le fichier {what} contient une déclaration DTD ou d'entité : il est refusé par sécurité.",
            detail=f"{what}: DOCTYPE/ENTITY declaration",
        )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValidationError(f"Le fichier {what} est illisible (XML mal formé).", detail=f"{what}: {exc}") from exc
