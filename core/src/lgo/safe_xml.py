"""Parsing XML that came from outside — a DMP or INSi answer, another author's CDA, an XDM archive received by
mail: no DTD, no entity, no network, no huge tree.

A document that declares a DTD is refused outright rather than parsed with entities switched off: none of these
documents has any reason to carry one, and refusing is what stops "billion laughs" and external-entity attacks
whatever the parser's defaults are (the declaration is looked for in the bytes, and again in what the parser saw,
for encodings such as UTF-16 where the bytes hide it). Every refusal is a :class:`HostileContent` or a
:class:`lgo.errors.ValidationError` with a French message; nothing is expanded, fetched or half-read.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from lgo.errors import ValidationError

_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class HostileContent(ValidationError):
    """The content looks like an attack (entities, zip slip, zip bomb, oversize): refused, never processed."""


def _refuse_declarations(what: str) -> HostileContent:
    return HostileContent(
        f"Le fichier {what} contient une déclaration DTD ou d'entité : il est refusé par sécurité.",
        detail=f"{what}: DOCTYPE/ENTITY declaration",
    )


def parse_untrusted(data: bytes, *, what: str) -> Any:
    """The root element of ``data``, parsed without DTD, entities, network access or huge trees."""
    if not isinstance(data, bytes | bytearray):
        raise ValidationError(f"Le fichier {what} est illisible (pas du XML).", detail=f"{what}: {type(data)}")
    if _DECLARATIONS.search(data):
        raise _refuse_declarations(what)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(bytes(data), parser)
    except etree.XMLSyntaxError as exc:
        raise ValidationError(f"Le fichier {what} est illisible (XML mal formé).", detail=f"{what}: {exc}") from exc
    info: Any = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise _refuse_declarations(what)
    return root
