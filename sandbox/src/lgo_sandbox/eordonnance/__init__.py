"""The ordonnance numérique sandbox: a prescription base over HTTPS with client certificates (JSON).

It keeps state like the real base would: dispensings done per renewal, boxes already dispensed per line (partial
and sequenced dispensing), the pharmacy executing it (the FINESS in the certificate's OU), idempotent executions
(``Idempotency-Key``). It refuses an unknown prescription, a fully executed one, and one another pharmacy is
executing; it can be slow or down. Prescriptions come from a JSON file (``prescriptions.json`` by default: fictional
data shaped after the ANS FHIR ePrescription examples).
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGED = Path(__file__).parent / "prescriptions.json"


@dataclass
class EOrdonnanceSandbox:
    source: Path = PACKAGED
    delay_seconds: float = 0.0
    down: bool = False
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    billing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.prescriptions: dict[str, dict[str, Any]] = {}
        for item in json.loads(Path(self.source).read_text(encoding="utf-8")):
            item = copy.deepcopy(item)
            item.update(dispensings_done=0, already_dispensed={}, owner=None)
            self.prescriptions[item["identifier"]] = item
        self._by_key: dict[str, str] = {}

    def add(self, prescription: dict[str, Any]) -> None:
        self.prescriptions[prescription["identifier"]] = {
            **copy.deepcopy(prescription),
            "dispensings_done": 0,
            "already_dispensed": {},
            "owner": None,
        }

    # -- WSGI ---------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.down:
            return self._reply(start_response, 503, {"code": "indisponible", "message_fr": "Service indisponible."})
        finess = _finess(environ.get("lgo.peer_certificate"))
        parts = [p for p in environ.get("PATH_INFO", "").split("/") if p]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(min(length, 200_000)) or b"{}") if length else {}
        key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
        with self._lock:
            status, payload = self._route(environ["REQUEST_METHOD"], parts, body, finess, key)
        return self._reply(start_response, status, payload)

    @staticmethod
    def _reply(start_response: Callable[..., Any], status: int, payload: dict[str, Any]) -> list[bytes]:
        data = json.dumps(payload, ensure_ascii=False).encode()
        reasons = {
            200: "OK",
            201: "Created",
            404: "Not Found",
            409: "Conflict",
            400: "Bad Request",
            503: "Service Unavailable",
        }
        start_response(
            f"{status} {reasons.get(status, 'Error')}",
            [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))],
        )
        return [data]

    def _route(
        self, method: str, parts: list[str], body: dict[str, Any], finess: str | None, key: str
    ) -> tuple[int, dict[str, Any]]:
        if len(parts) < 2 or parts[0] != "prescriptions":
            return 404, {"code": "route", "message_fr": "Adresse inconnue."}
        item = self.prescriptions.get(parts[1])
        if item is None:
            return 404, {"code": "inconnue", "message_fr": "Ordonnance numérique inconnue de l'Assurance Maladie."}
        if item["dispensings_done"] > item["renewals"]:
            return 409, {"code": "executee", "message_fr": "Cette ordonnance a déjà été entièrement exécutée."}
        if item["owner"] not in (None, finess):
            return 409, {
                "code": "autre_officine",
                "message_fr": "Cette ordonnance est exécutée par une autre officine : elle ne peut pas "
                "être délivrée ici.",
            }
        if method == "GET" and len(parts) == 2:
            public = {k: v for k, v in item.items() if k != "owner"}
            return 200, public
        if method == "POST" and len(parts) == 3 and parts[2] == "executions":
            if key and key in self._by_key:
                return 200, {"execution_id": self._by_key[key]}
            execution_id = str(uuid.uuid4())
            self._by_key[key or execution_id] = execution_id
            self.executions[execution_id] = {"identifier": item["identifier"], "finess": finess, **body}
            item["owner"] = finess
            done = item["already_dispensed"]
            for line in body.get("lines", []):
                done[line["line_id"]] = done.get(line["line_id"], 0) + int(line.get("quantity", 0))
                if line.get("closed"):
                    done[line["line_id"]] = max(done[line["line_id"]], _prescribed(item, line["line_id"]))
            if all(done.get(line["line_id"], 0) >= line["quantity"] for line in item["lines"]):
                item["dispensings_done"] += 1
                item["already_dispensed"] = {}
                if item["dispensings_done"] > item["renewals"]:
                    item["owner"] = finess
            return 201, {"execution_id": execution_id}
        if method == "POST" and len(parts) == 5 and parts[2] == "executions" and parts[4] == "billing":
            if parts[3] not in self.executions:
                return 404, {"code": "execution", "message_fr": "Exécution inconnue."}
            self.billing.setdefault(parts[3], body)
            return 201, {"ok": True}
        return 400, {"code": "requete", "message_fr": "Requête invalide."}


def _prescribed(item: dict[str, Any], line_id: str) -> int:
    return next(int(line["quantity"]) for line in item["lines"] if line["line_id"] == line_id)


def _finess(der: bytes | None) -> str | None:
    if not der:
        return None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    values = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return str(values[0].value) if values else None


def start_eordonnance_sandbox(authority: Any, **options: Any) -> tuple[Any, EOrdonnanceSandbox]:
    from lgo_sandbox.pki import server_context
    from lgo_sandbox.tls import BackgroundServer

    sandbox = EOrdonnanceSandbox(**options)
    server = BackgroundServer(sandbox, ssl_context=server_context(authority.server("eordonnance")))
    server.start()
    return server, sandbox
