"""A DMP answer (plain SOAP or MTOM) or a retrieved CDA carrying a DTD, an external entity or a billion-laughs
payload is refused without expansion: the client reports an unreadable answer in French and retries later."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator

import pytest
from lgo.errors import ValidationError
from lgo_dmp.client import DmpClient, DmpUnavailable
from lgo_dmp.service import render_document
from lxml import etree

ENVELOPE = (
    '<?xml version="1.0"?>\n{dtd}<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
    "<soap:Body><Answer>{body}</Answer></soap:Body></soap:Envelope>"
)
LAUGHS = (
    '<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)
EXTERNAL = '<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
ANSWERS = {
    "billion laughs": ENVELOPE.format(dtd=LAUGHS, body="&c;"),
    "external entity": ENVELOPE.format(dtd=EXTERNAL, body="&x;"),
}


class _Hostile(http.server.BaseHTTPRequestHandler):
    answer = b""
    multipart = False

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body, content_type = self.answer, "application/soap+xml; charset=UTF-8"
        if self.multipart:
            content_type = 'multipart/related; type="application/xop+xml"; boundary="B"; start="<r>"'
            body = (
                b'--B\r\nContent-Type: application/xop+xml; type="application/soap+xml"\r\nContent-ID: <r>\r\n\r\n'
                + body
                + b"\r\n--B--\r\n"
            )
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_dmp() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("multipart", [False, True], ids=["soap", "mtom"])
@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_a_hostile_dmp_answer_is_refused_without_expansion(
    hostile_dmp: http.server.HTTPServer, answer: str, multipart: bool
) -> None:
    _Hostile.answer, _Hostile.multipart = answer.encode(), multipart
    url = f"http://127.0.0.1:{hostile_dmp.server_address[1]}"
    client = DmpClient(url, ssl_context=ssl.create_default_context(), vihf=lambda _: None, source_id="1.2.3")
    with client, pytest.raises(DmpUnavailable, match="Réponse illisible du DMP") as refused:
        client.find_documents("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH")
    assert "a" * 100 not in str(refused.value.detail) and "root:" not in str(refused.value.detail)  # not expanded
    assert isinstance(refused.value.__cause__, ValidationError)


def test_a_hostile_cda_retrieved_from_the_dmp_is_refused() -> None:
    document = etree.tostring(etree.fromstring(b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>")).decode()
    with pytest.raises(ValidationError, match="déclaration DTD"):
        render_document((EXTERNAL + document).encode())
