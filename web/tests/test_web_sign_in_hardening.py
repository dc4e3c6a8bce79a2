"""Sign-in and sessions under attack (issue 16): a cookie replayed after sign-out is refused; parallel bursts of
wrong passwords get exactly the free attempts, on SQLite and a real PostgreSQL; a wrong password takes as long for
an unknown operator code as for a known one."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest
from flask import Flask
from lgo.demo_data import PASSWORD, Seeded
from lgo.domain.audit import AuditEntry
from lgo.kernel import Kernel
from lgo_web import throttle
from sqlalchemy import func, select
from web_fakes import csrf_token, https_client, post_form, sign_in


def _cookie(client: Any) -> str:
    cookie = client.get_cookie("lgo_admin")
    assert cookie is not None
    return str(cookie.value)


def _with_cookie(app: Flask, value: str) -> Any:
    client = https_client(app)
    client.set_cookie("lgo_admin", value, domain="localhost")
    return client


def test_a_cookie_replayed_after_sign_out_is_refused(web_app: Flask, web_kernel: Kernel, web_seeded: Seeded) -> None:
    client = https_client(web_app)
    assert sign_in(client, "titulaire", PASSWORD).status_code == 302
    assert client.get("/modules").status_code == 200
    stolen = _cookie(client)
    assert _with_cookie(web_app, stolen).get("/modules").status_code == 200  # a copy works while signed in
    assert post_form(client, "/modules", "/deconnexion").status_code == 302
    replayed = _with_cookie(web_app, stolen).get("/modules")
    assert replayed.status_code == 302 and replayed.headers["Location"].endswith("/connexion")
    # Refused by every web process of the database, not only the one that saw the sign-out.
    from lgo_web import create_app

    assert _with_cookie(create_app(web_kernel), stolen).get("/modules").status_code == 302
    with web_kernel.transaction() as db:
        closed = db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "web.logout"))
    assert closed == 1


def test_signing_in_again_closes_the_previous_session(web_app: Flask, web_seeded: Seeded) -> None:
    client = https_client(web_app)
    sign_in(client, "titulaire", PASSWORD)
    first = _cookie(client)
    time.sleep(0.01)  # two sign-ins are told apart by their time
    assert sign_in(client, "admin", PASSWORD).status_code == 302
    assert _with_cookie(web_app, first).get("/modules").status_code == 302
    assert client.get("/modules").status_code == 200


def test_parallel_bursts_get_exactly_the_free_attempts(web_app: Flask, web_kernel: Kernel, web_seeded: Seeded) -> None:
    """Twelve wrong passwords at the same instant: five are checked, the others must wait (issue 16 measured 9, 8
    and 15 checks on PostgreSQL)."""
    burst = 12
    clients = [https_client(web_app) for _ in range(burst)]
    tokens = [csrf_token(c.get("/connexion").get_data(as_text=True)) for c in clients]
    start = threading.Barrier(burst)
    statuses: list[int] = []

    def attempt(client: Any, token: str) -> None:
        start.wait()
        response = client.post(
            "/connexion", data={"code": "titulaire", "password": "faux-mot-de-passe", "csrf_token": token}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [401] * throttle.FREE_FAILURES + [429] * (burst - throttle.FREE_FAILURES)
    with web_kernel.transaction() as db:
        checked = db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == throttle.FAILED))
    assert checked == throttle.FREE_FAILURES


def _failed_sign_in(app: Flask, code: str, address: str) -> float:
    client = https_client(app)
    client.environ_base["REMOTE_ADDR"] = address  # a new address each time: the throttle is not what is measured
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    started = time.perf_counter()
    response = client.post("/connexion", data={"code": code, "password": "faux-mot-de-passe", "csrf_token": token})
    elapsed = time.perf_counter() - started
    assert response.status_code == 401
    return elapsed


@pytest.mark.parametrize("lgo_backend", ["sqlite"])
def test_a_wrong_password_takes_as_long_for_an_unknown_code(web_app: Flask, web_seeded: Seeded) -> None:
    """Before: about 50 ms for a known code, 7 ms for an unknown one. Both are measured in turn in this run; their
    medians must be within a generous margin of each other."""
    known: list[float] = []
    unknown: list[float] = []
    for round_ in range(15):
        known.append(_failed_sign_in(web_app, "titulaire", f"192.0.2.{round_ + 1}"))
        unknown.append(_failed_sign_in(web_app, "personne", f"198.51.100.{round_ + 1}"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.67, (statistics.median(known), statistics.median(unknown))
