"""Sandbox prescriptions from the ANS FHIR ePrescription examples (Bundles of MedicationRequest)."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_CIP = ("1.2.250.1.213.2.3.2", "cip")
_CIS = ("1.2.250.1.213.2.3.1", "cis")
_UCD = ("1.2.250.1.213.2.3.3", "ucd")


def _days(duration: dict[str, Any] | None) -> int | None:
    if not duration:
        return None
    value, unit = float(duration.get("value", 0)), duration.get("code") or duration.get("unit", "d")
    factor = {"d": 1, "wk": 7, "mo": 30, "a": 365, "h": 1 / 24}.get(unit, 1)
    return max(1, round(value * factor))


def _line(number: int, request: dict[str, Any], medications: dict[str, dict[str, Any]]) -> dict[str, Any]:
    concept = request.get("medicationCodeableConcept")
    if concept is None and "medicationReference" in request:
        medication = medications.get(request["medicationReference"].get("reference", "").split("/")[-1], {})
        concept = medication.get("code", {})
    concept = concept or {}
    codings = concept.get("coding", [])
    line: dict[str, Any] = {
        "line_id": f"L{number}",
        "label": concept.get("text") or next((c.get("display") for c in codings if c.get("display")), "médicament"),
        "quantity": 1,
    }
    for coding in codings:
        system = (coding.get("system") or "").lower()
        for oid, name in (_CIP, _CIS, _UCD):
            if oid in system or system.endswith(name):
                line[{"cip": "cip13", "cis": "cis", "ucd": "ucd"}[name]] = coding.get("code")
    quantity = (request.get("dispenseRequest") or {}).get("quantity", {}).get("value")
    if quantity:
        line["quantity"] = max(1, round(float(quantity)))
    dosage = (request.get("dosageInstruction") or [{}])[0]
    line["dosage"] = dosage.get("text") or (dosage.get("asNeededCodeableConcept") or {}).get("text", "")
    line["duration_days"] = _days(((dosage.get("timing") or {}).get("repeat") or {}).get("boundsDuration"))
    return line


def from_bundle(bundle: dict[str, Any], identifier: str) -> dict[str, Any] | None:
    resources = [entry.get("resource", {}) for entry in bundle.get("entry", [])]
    requests = [r for r in resources if r.get("resourceType") == "MedicationRequest"]
    if not requests:
        return None
    medications = {r.get("id", ""): r for r in resources if r.get("resourceType") == "Medication"}
    patient: dict[str, Any] = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    name = (patient.get("name") or [{}])[0]
    requester = (requests[0].get("requester") or {}).get("identifier", {}).get("value", "")
    return {
        "identifier": identifier,
        "prescribed_on": (requests[0].get("authoredOn") or "2025-01-01")[:10],
        "prescriber": {
            "name": "Prescripteur de l'exemple ANS",
            "rpps": requester[1:] if len(requester) == 12 else None,
        },
        "patient": {
            "birth_name": (name.get("family") or "PATIENT-EXEMPLE").upper(),
            "first_name": ((name.get("given") or ["EXEMPLE"])[0]).upper(),
            "birth_date": patient.get("birthDate", "1970-01-01"),
            "ins": None,
        },
        "renewals": int(((requests[0].get("dispenseRequest") or {}).get("numberOfRepeatsAllowed")) or 0),
        "lines": [_line(number, request, medications) for number, request in enumerate(requests, start=1)],
    }


def bundles(package: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The example Bundles of the IG package (``.tgz``), read without extracting anything to disk."""
    with tarfile.open(package, "r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.startswith("package/example/Bundle-") and member.name.endswith(".json"):
                handle = archive.extractfile(member)
                if handle is not None:
                    yield Path(member.name).stem, json.loads(handle.read())
