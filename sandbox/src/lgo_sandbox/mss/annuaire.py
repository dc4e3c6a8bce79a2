"""An Annuaire Santé FHIR sandbox: ``GET /Practitioner`` by ``name``, ``identifier`` (system|value),
``address-city`` or ``mailbox-mss`` (several criteria: all must match), answering a ``searchset`` Bundle.
Practitioners come from the shared FHIR examples of the ANS MSSanté IG when their folder is given (tests), and from
a small fictional list otherwise (the demo)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from lgo_sandbox.tls import BackgroundServer

EXTENSION = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL"


def practitioner(
    identifier: str, family: str, given: str, mailboxes: list[tuple[str, str]], city: str = ""
) -> dict[str, Any]:
    """A fictional Practitioner shaped like the IG's examples."""
    return {
        "resourceType": "Practitioner",
        "id": f"fictif-{identifier}",
        "active": True,
        "identifier": [{"use": "official", "system": "urn:oid:1.2.250.1.71.4.2.1", "value": identifier}],
        "name": [{"use": "official", "family": family, "given": [given]}],
        **({"address": [{"use": "work", "city": city, "country": "FRA"}]} if city else {}),
        "telecom": [
            {
                "extension": [
                    {
                        "url": EXTENSION,
                        "extension": [
                            {
                                "url": "type",
                                "valueCodeableConcept": {"coding": [{"system": TYPE_SYSTEM, "code": kind}]},
                            },
                            {"url": "listeRouge", "valueBoolean": False},
                        ],
                    }
                ],
                "system": "email",
                "value": address,
            }
            for address, kind in mailboxes
        ],
    }


FICTIONAL = [
    practitioner(
        "899999000047",
        "MEDECIN-DEMO",
        "Anne",
        [("anne.medecin-demo@medecin.mssante.fr", "PER"), ("secretariat.demo@cabinet.mssante.fr", "CAB")],
        city="Villedémo",
    ),
    practitioner(
        "899999000062", "INFIRMIER-DEMO", "Paul", [("paul.infirmier-demo@infirmier.mssante.fr", "PER")], "Autreville"
    ),
]


def load_examples(folder: Path) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        resources = (
            [e.get("resource", {}) for e in data.get("entry", [])] if data.get("resourceType") == "Bundle" else [data]
        )
        for resource in resources:
            if resource.get("resourceType") == "Practitioner":
                found[resource.get("id", str(len(found)))] = resource
    return list(found.values())


class AnnuaireSandbox:
    def __init__(self, practitioners: list[dict[str, Any]] | None = None) -> None:
        self.practitioners = list(practitioners if practitioners is not None else FICTIONAL)
        self.requests: list[dict[str, list[str]]] = []

    def _matches(self, resource: dict[str, Any], params: dict[str, list[str]]) -> bool:
        if "name" in params:
            wanted = params["name"][0].lower()
            names = [" ".join([*n.get("given", []), n.get("family", "")]).lower() for n in resource.get("name", [])]
            if not any(wanted in n for n in names):
                return False
        if "identifier" in params:
            system, _, value = params["identifier"][0].rpartition("|")
            if not any(
                i.get("value") == value and (not system or i.get("system") == system)
                for i in resource.get("identifier", [])
            ):
                return False
        if "address-city" in params:
            wanted = params["address-city"][0].lower()
            if not any(str(a.get("city", "")).lower().startswith(wanted) for a in resource.get("address", [])):
                return False
        if "mailbox-mss" in params:
            wanted = params["mailbox-mss"][0].lower()
            if not any(t.get("value", "").lower() == wanted for t in resource.get("telecom", [])):
                return False
        return True

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        params = parse_qs(environ.get("QUERY_STRING", ""))
        self.requests.append(params)
        body: dict[str, Any]
        if environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1] != "Practitioner":
            body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-supported"}]}
            status = "404 Not Found"
        else:
            hits = [p for p in self.practitioners if self._matches(p, params)]
            body = {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(hits),
                "entry": [{"fullUrl": f"Practitioner/{p.get('id')}", "resource": p} for p in hits],
            }
            status = "200 OK"
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/fhir+json"), ("Content-Length", str(len(data)))])
        return [data]


def start_annuaire_sandbox(
    practitioners: list[dict[str, Any]] | None = None,
) -> tuple[BackgroundServer, AnnuaireSandbox]:
    sandbox = AnnuaireSandbox(practitioners)
    return BackgroundServer(sandbox).start(), sandbox
