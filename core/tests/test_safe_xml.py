"""Untrusted XML (another author's CDA, a service's answer) is parsed without DTD, entities or network: a DTD, an
external entity or a billion-laughs payload is refused in French, never expanded."""

from __future__ import annotations

import pytest
from lgo.documents import rendering, xds
from lgo.errors import ValidationError
from lgo.safe_xml import HostileContent, parse_untrusted

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol4;</title></ClinicalDocument>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE doc [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&secret;</title></ClinicalDocument>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ClinicalDocument SYSTEM "http://127.0.0.1:9/cda.dtd">
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</title></ClinicalDocument>"""
HOSTILE = {"billion laughs": BILLION_LAUGHS, "external entity": EXTERNAL_ENTITY, "external DTD": EXTERNAL_DTD}


@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(
    "reader",
    [
        lambda data: parse_untrusted(data, what="document CDA"),
        rendering.render_html,
        xds.from_cda,
    ],
    ids=["parser", "rendering", "xds metadata"],
)
def test_hostile_cda_documents_are_refused_without_expansion(payload: bytes, reader: object) -> None:
    with pytest.raises(HostileContent, match="déclaration DTD ou d'entité") as refused:
        reader(payload)  # type: ignore[operator]
    assert "lol" not in refused.value.message_fr and "root:" not in refused.value.detail


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_dtd_hidden_by_a_wide_encoding_is_still_refused(encoding: str) -> None:
    payload = EXTERNAL_ENTITY.decode().replace('version="1.0"', f'version="1.0" encoding="{encoding}"')
    with pytest.raises(HostileContent):
        parse_untrusted(payload.encode(encoding), what="document CDA")


@pytest.mark.parametrize("payload", [b"", b"<a>", b"not xml", "<a/>", None, 42])
def test_unreadable_input_gets_a_french_error(payload: object) -> None:
    with pytest.raises(ValidationError, match="illisible"):
        parse_untrusted(payload, what="réponse")  # type: ignore[arg-type]
