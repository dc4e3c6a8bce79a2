from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from lgo_sandbox.pki import TestAuthority, common_name, server_context
from lgo_sandbox.tls import BackgroundServer


def _echo_cn(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    from cryptography import x509

    der = environ.get("lgo.peer_certificate")
    cn = common_name(x509.load_der_x509_certificate(der)) if der else "aucun"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(cn).encode()]


def test_mutual_tls_gives_the_caller_common_name(tmp_path: Path) -> None:
    ca = TestAuthority(tmp_path / "pki")
    client = ca.organisation("INSI-AUTO")
    with BackgroundServer(_echo_cn, ssl_context=server_context(ca.server())) as server:
        response = httpx.get(server.url, verify=client.client_context())
        assert response.text == "INSI-AUTO"


def test_a_client_without_certificate_or_from_another_authority_is_refused(tmp_path: Path) -> None:
    ca = TestAuthority(tmp_path / "pki")
    stranger = TestAuthority(tmp_path / "other").organisation("INSI-AUTO")
    with BackgroundServer(_echo_cn, ssl_context=server_context(ca.server())) as server:
        import ssl

        anonymous = ssl.create_default_context(cafile=str(ca.ca_path))
        for context in (anonymous, stranger.client_context(verify=False)):
            with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
                httpx.get(server.url, verify=context)
        # The server still serves a proper client afterwards.
        assert httpx.get(server.url, verify=ca.organisation("INSI-MANU").client_context()).text == "INSI-MANU"


def test_credentials_are_reused_and_export_as_pkcs12(tmp_path: Path) -> None:
    ca = TestAuthority(tmp_path / "pki")
    first = ca.person("10001234567", given_name="Claire", surname="TESTPHARMA")
    again = TestAuthority(tmp_path / "pki").person("10001234567", given_name="Claire", surname="TESTPHARMA")
    assert first.cert_pem == again.cert_pem
    assert common_name(first.certificate) == "810001234567"
    key, cert, chain = pkcs12.load_key_and_certificates(first.pkcs12("secret"), b"secret")
    assert cert is not None and cert.subject == first.certificate.subject and key is not None and len(chain) == 1
    assert (tmp_path / "pki" / "ca.key").stat().st_mode & 0o077 == 0
