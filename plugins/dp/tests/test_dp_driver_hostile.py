"""What comes from outside: any answer of a DP (malformed, hostile, faulty) becomes a French error to retry or a
refusal with its code, never a raw exception; and the sandbox refuses what the DP refuses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.api import TlsEndpoint
from lgo.demo_data import cip13
from lgo.identifiers import nir_key
from lgo.identity import OID_TEST
from lgo_dp.json_driver import JsonHttpsTransport, _Bulletins, _History, _read
from lgo_dp.transport import DispensedLine, DpPatient, DpRefused, DpUnavailable, Professional, Refusal
from lgo_sandbox.pki import TestAuthority, server_context
from lgo_sandbox.tls import BackgroundServer

BODY = "2850399000042"
PATIENT = DpPatient(f"{BODY}{nir_key(BODY):02d}", OID_TEST, "MARTIN-DEMO", ("CAMILLE",), "F", "1985-03-14")
PRO = Professional("Claire Durand-Démo", "pharmacien titulaire", "99999000013")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
line_like = st.fixed_dictionaries(
    {
        "reference": st.text(max_size=90),
        "date": st.sampled_from(["2026-01-01", "hier", "2026-13-40", ""]) | st.text(max_size=12),
        "cip13": st.sampled_from([cip13("3000011"), "3400930000010", "abc"]) | st.text(max_size=14),
        "libelle": st.text(max_size=40) | st.just("<script>alert(1)</script>"),
        "quantite": st.integers(min_value=-5, max_value=20_000) | st.text(max_size=3),
        "lot": st.none() | st.text(max_size=50),
        "officine": st.fixed_dictionaries({"finess": st.text(max_size=10), "nom": st.text(max_size=20)}) | json_values,
    }
)


@given(json_values | st.fixed_dictionaries({"lignes": st.lists(line_like, max_size=4)}))
def test_any_history_answer_is_read_or_refused_in_french(data: Any) -> None:
    try:
        answer = _read(_History, data)
    except DpUnavailable as exc:
        assert exc.message_fr.startswith("Réponse inattendue du Dossier Pharmaceutique")
        return
    for line in answer.lignes:
        assert len(line.cip13) == 13 and line.quantite >= 1 and len(line.officine.finess) == 9


@given(json_values)
def test_any_bulletin_answer_is_read_or_refused_in_french(data: Any) -> None:
    try:
        _read(_Bulletins, data)
    except DpUnavailable as exc:
        assert exc.message_fr


# --- over HTTPS, from a server answering anything -------------------------------------------------------------------


class Hostile:
    def __init__(self) -> None:
        self.status, self.body = 200, b"{}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response(
            f"{self.status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(self.body)))]
        )
        return [self.body]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hostile, JsonHttpsTransport]]:
    authority = TestAuthority(tmp_path_factory.mktemp("pki"))
    app = Hostile()
    server = BackgroundServer(app, ssl_context=server_context(authority.server("hostile"))).start()
    credential = authority.organisation("DP", finess="990000013")
    yield app, JsonHttpsTransport(TlsEndpoint(server.url, credential.client(), str(credential.ca_path), 2.0))
    server.stop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=st.sampled_from([200, 201, 400, 403, 404, 409, 418, 429, 500, 502, 503]),
    body=st.binary(max_size=60) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_any_answer_over_https_is_a_french_error_or_a_result(
    hostile: tuple[Hostile, JsonHttpsTransport], status: int, body: bytes
) -> None:
    app, driver = hostile
    app.status, app.body = status, body
    try:
        driver.history(PATIENT, PRO, date.today() - timedelta(days=30))
    except DpRefused as exc:
        assert 400 <= status < 500 and exc.message_fr and exc.code in set(Refusal)
    except DpUnavailable as exc:
        assert exc.message_fr and "Dossier Pharmaceutique" in exc.message_fr


@pytest.mark.parametrize(
    ("status", "body", "error", "expected"),
    [
        (200, b"<html>maintenance</html>", DpUnavailable, "Réponse illisible du Dossier Pharmaceutique"),
        (200, b'{"lignes": "tout"}', DpUnavailable, "Réponse inattendue du Dossier Pharmaceutique"),
        (503, b"", DpUnavailable, "Le Dossier Pharmaceutique ne répond pas"),
        (409, b'{"code": "refus", "message_fr": "Refus du patient."}', DpRefused, "Refus du patient."),
        (400, b'{"code": "<b>", "message_fr": ""}', DpRefused, "Le Dossier Pharmaceutique a refusé la demande."),
    ],
)
def test_known_faults_give_their_french_message(
    hostile: tuple[Hostile, JsonHttpsTransport], status: int, body: bytes, error: type, expected: str
) -> None:
    app, driver = hostile
    app.status, app.body = status, body
    with pytest.raises(error) as raised:
        driver.history(PATIENT, PRO, date.today())
    assert raised.value.message_fr.startswith(expected)


def test_a_huge_answer_is_refused(hostile: tuple[Hostile, JsonHttpsTransport]) -> None:
    app, driver = hostile
    app.status, app.body = 200, b'{"lignes": [' + b"0," * 4_500_000 + b"0]}"
    with pytest.raises(DpUnavailable):
        driver.history(PATIENT, PRO, date.today())


# --- the sandbox refuses what the DP refuses -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonHttpsTransport]:
    from lgo_sandbox.dp import start_dp_sandbox

    authority = TestAuthority(tmp_path_factory.mktemp("pki-dp"))
    server, _ = start_dp_sandbox(authority)
    credential = authority.organisation("DP", finess="990000013")
    driver = JsonHttpsTransport(TlsEndpoint(server.url, credential.client(), str(credential.ca_path), 2.0))
    driver.create(PATIENT, PRO, idempotency_key="creation")
    yield driver
    server.stop()


def _line(**changes: Any) -> DispensedLine:
    base = {
        "reference": "990000013-O1",
        "dispensed_on": date.today(),
        "cip13": cip13("3000011"),
        "label": "PARACÉTAMOL",
        "quantity": 1,
        "lot": "L1",
    }
    return DispensedLine(**{**base, **changes})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (_line(cip13="3400930000010"), "Code CIP13 invalide"),
        (_line(dispensed_on=date.today() + timedelta(days=2)), "Date de dispensation dans le futur"),
        (_line(quantity=0), "Quantité délivrée invalide"),
        (_line(lot="L" * 41), "Numéro de lot invalide"),
        (_line(replaces="990000013-O999"), "Ligne corrigée inconnue du DP"),
    ],
)
def test_the_sandbox_refuses_a_malformed_line(
    sandbox_driver: JsonHttpsTransport, line: DispensedLine, message: str
) -> None:
    with pytest.raises(DpRefused, match=message) as refused:
        sandbox_driver.feed(PATIENT, [line], idempotency_key=f"k-{abs(hash(message))}")
    assert refused.value.code == Refusal.REQUEST


def test_the_sandbox_refuses_what_is_not_an_ins_and_an_anonymous_consultation(
    sandbox_driver: JsonHttpsTransport,
) -> None:
    from dataclasses import replace

    for patient, message in (
        (replace(PATIENT, oid="1.2.250.1.999"), "n'accepte qu'une INS"),
        (replace(PATIENT, matricule=PATIENT.matricule[:-2] + "00"), "la clé ne correspond pas"),
    ):
        with pytest.raises(DpRefused, match=message):
            sandbox_driver.file(patient, PRO)
    with pytest.raises(DpRefused, match="doit être nommé"):
        sandbox_driver.history(PATIENT, Professional("", ""), date.today())
