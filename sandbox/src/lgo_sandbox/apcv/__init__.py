"""Sandbox of the Appli carte Vitale (ApCV) service: the pharmacy sends what it read from the patient's phone (QR
code or NFC), the service answers with the beneficiary and the INS the health insurance qualified.

HTTPS with the pharmacy's organisation certificate (mutual TLS, test authority). ``POST /apcv/v1/identification``
with ``{"donnees": "<QR or NFC data>"}``. The data is a one-time token the app shows (``APCV1.<random>``; the real
format is not public, see docs/decisions/0822): :meth:`ApcvSandbox.present` plays the patient opening the app. An
unknown, reused or expired token gives a 404/410 JSON error with a French message. Fictional people only.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

TOKEN_LIFETIME_SECONDS = 120.0


@dataclass(frozen=True)
class ApcvPerson:
    birth_name: str
    first_names: tuple[str, ...]
    sex: str
    birth_date: str  # YYYY-MM-DD
    birth_place_code: str
    matricule: str  # the INS (NIR) with its key
    oid: str = "1.2.250.1.213.1.4.8"
    rank: int = 1


@dataclass
class ApcvSandbox:
    people: dict[str, ApcvPerson] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def present(self, key: str, *, lifetime: float = TOKEN_LIFETIME_SECONDS) -> str:
        """The patient ``key`` opens the app: the data its QR code (or NFC) carries."""
        token = f"APCV1.{secrets.token_urlsafe(24)}"
        with self._lock:
            self._tokens[token] = (key, time.monotonic() + lifetime)
        return token

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def reply(status: str, body: dict[str, Any]) -> Iterable[bytes]:
            content = json.dumps(body, ensure_ascii=False).encode()
            start_response(
                status, [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(content)))]
            )
            return [content]

        if environ.get("lgo.peer_certificate") is None:
            return reply("401 Unauthorized", {"erreur": "Certificat de la structure absent."})
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/apcv/v1/identification":
            return reply("404 Not Found", {"erreur": "Service inconnu."})
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            payload = json.loads(environ["wsgi.input"].read(size) or b"{}")
            data = str(payload["donnees"]).strip()
        except (ValueError, KeyError, TypeError):
            return reply("400 Bad Request", {"erreur": "Requête mal formée : « donnees » attendu."})
        self.requests.append(payload)
        with self._lock:
            found = self._tokens.pop(data, None)
        if found is None:
            return reply(
                "404 Not Found",
                {
                    "erreur": "Données de l'appli carte Vitale inconnues ou déjà utilisées : "
                    "demandez au patient de présenter à nouveau son appli."
                },
            )
        key, deadline = found
        if time.monotonic() > deadline:
            return reply(
                "410 Gone",
                {"erreur": "Le code de l'appli carte Vitale a expiré : demandez au patient de le présenter à nouveau."},
            )
        person = self.people[key]
        body = asdict(person)
        body["first_names"] = list(person.first_names)
        return reply("200 OK", {"beneficiaire": body, "ins_qualifiee": True})


def start_apcv_sandbox(authority: Any, people: dict[str, ApcvPerson] | None = None) -> tuple[Any, ApcvSandbox]:
    """Start the sandbox on loopback over TLS with client certificates: ``(server, sandbox)``."""
    from lgo_sandbox.pki import server_context
    from lgo_sandbox.tls import BackgroundServer

    sandbox = ApcvSandbox(people=dict(people or DEMO_PEOPLE))
    server = BackgroundServer(sandbox, ssl_context=server_context(authority.server("apcv")))
    server.start()
    return server, sandbox


#: Shared INSi test identities (fictional).
DEMO_PEOPLE = {
    "catarina": ApcvPerson("TCHITCHI", ("CATARINA", "BELLA"), "F", "1936-06-21", "63220", "236066322083656"),
    "camille": ApcvPerson("MARTIN-DEMO", ("CAMILLE", "ANNE"), "F", "1985-03-14", "99100", "285039910012375"),
}
