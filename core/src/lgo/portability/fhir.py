"""A patient's identity, dispensations and invoices as a FHIR R4 ``Bundle`` (the structured copy a receiving
system reads without knowing this LGO), and the same as readable text lines (for its PDF copy).

Resources: ``Patient`` (INS when the identity is qualified, the local identifier always, names, sex, birth date and
place), ``MedicationDispense`` (one per ordonnancier line: CIP13 as a GTIN, lot, quantity, pharmacist, the
prescription it was dispensed on) and ``Invoice`` (lines, AMO / AMC / patient shares). Identifiers are OIDs derived
from the pharmacy's FINESS (decision 1500); nothing here depends on the database's row numbers except the local
identifiers themselves.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lgo.identifiers import derived_oid, idnat_ps
from lgo.identity import OID_NIA, OID_NIR, SharedIdentity
from lgo.local_time import in_paris

GTIN = "https://www.gs1.org/gtin"
#: The French core profile's identifier types (FR Core) for the INS and a local identifier.
IDENTIFIER_TYPES = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
IDNAT_PS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
INSEE_BIRTH_PLACE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-birth-place"
#: This LGO's own extension: where a prescription came from (paper or ordonnance numérique).
PRESCRIPTION_SOURCE = "https://lgo-libre.fr/fhir/StructureDefinition/prescription-source"
_GENDER = {"M": "male", "F": "female", "I": "unknown"}
_NAMESPACE = uuid.UUID("5c7e4d4e-0a59-4c52-9c38-2f3b0f6a1e10")


@dataclass(frozen=True)
class PharmacyContext:
    """What every patient's bundle needs from the pharmacy: its FINESS and the reference rows by id."""

    finess: str
    name: str
    products: Mapping[int, Mapping[str, Any]]
    lots: Mapping[int, Mapping[str, Any]]
    operators: Mapping[int, Mapping[str, Any]]

    @property
    def oid(self) -> str:
        """The pharmacy's OID (the sourceId of its software instance, as for MSSanté and the DMP)."""
        return derived_oid(f"lgo:pharmacy:{self.finess}")

    def system(self, what: str) -> str:
        arcs = {"patient": 1, "dispensation": 2, "invoice": 3, "prescription": 4}
        return f"urn:oid:{self.oid}.{arcs[what]}"

    def full_url(self, kind: str, key: object) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{self.finess}/{kind}/{key}')}"


def _euros(cents: int) -> dict[str, Any]:
    return {"value": round(cents / 100, 2), "currency": "EUR"}


def _birth_date(text: str) -> str:
    year, month, day = text.split("-")
    if month == "00":
        return year
    if day == "00":
        return f"{year}-{month}"
    return text


def _moment(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def patient_resource(
    context: PharmacyContext, row: Mapping[str, Any], identity: SharedIdentity | None
) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = []
    if identity is not None:
        code = "INS-NIA" if identity.oid == OID_NIA else "INS-NIR"
        identifiers.append(
            {
                "use": "official",
                "type": {"coding": [{"system": IDENTIFIER_TYPES, "code": code}]},
                "system": f"urn:oid:{identity.oid}",
                "value": identity.matricule,
            }
        )
    identifiers.append(
        {
            "use": "usual",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI"}]},
            "system": context.system("patient"),
            "value": str(row["id"]),
        }
    )
    names: list[dict[str, Any]] = [
        {"use": "official", "family": row["birth_name"], "given": row["first_names"].split(" ")}
    ]
    if row.get("used_name") or row.get("used_first_name"):
        used_given = row.get("used_first_name") or row["first_names"].split(" ")[0]
        names.append({"use": "usual", "family": row.get("used_name") or row["birth_name"], "given": [used_given]})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(row["id"]),
        "identifier": identifiers,
        "name": names,
        "gender": _GENDER.get(str(getattr(row["sex"], "value", row["sex"])), "unknown"),
        "birthDate": _birth_date(row["birth_date"]),
    }
    if row.get("birth_place_code"):
        resource["extension"] = [{"url": INSEE_BIRTH_PLACE, "valueCode": row["birth_place_code"]}]
    if identity is not None:
        resource.setdefault("meta", {})["tag"] = [{"code": "QUAL", "display": "Identité qualifiée (INS)"}]
    return resource


def _performer(context: PharmacyContext, operator_id: int | None) -> list[dict[str, Any]]:
    operator = context.operators.get(operator_id or 0)
    if operator is None:
        return []
    actor: dict[str, Any] = {"display": f"{operator['first_name']} {operator['last_name']}"}
    if operator.get("rpps"):
        actor["identifier"] = {"system": IDNAT_PS_SYSTEM, "value": idnat_ps(operator["rpps"])}
    return [{"actor": actor}]


def _prescription_reference(context: PharmacyContext, prescription: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if prescription is None:
        return []
    source = str(getattr(prescription["source"], "value", prescription["source"]))
    kind = "ordonnance numérique" if source == "ordonnance_numerique" else "ordonnance papier"
    return [
        {
            "identifier": {"system": context.system("prescription"), "value": str(prescription["id"])},
            "display": f"{kind} de {prescription['prescriber_name']} du {_moment(prescription['prescribed_on'])}",
            "extension": [{"url": PRESCRIPTION_SOURCE, "valueCode": source}],
        }
    ]


def dispense_resource(
    context: PharmacyContext, patient_url: str, row: Mapping[str, Any], prescription: Mapping[str, Any] | None
) -> dict[str, Any]:
    product = context.products.get(row["product_id"], {})
    medication: dict[str, Any] = {
        "resourceType": "Medication",
        "id": "med",
        "code": {
            "coding": [{"system": GTIN, "code": product.get("cip13", ""), "display": product.get("label", "")}],
            "text": product.get("label", ""),
        },
    }
    lot = context.lots.get(row.get("lot_id") or 0)
    if lot is not None:
        medication["batch"] = {"lotNumber": lot["lot_number"], "expirationDate": _moment(lot["expiry"])}
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": f"disp-{row['number']}",
        "contained": [medication],
        "identifier": [{"system": context.system("dispensation"), "value": str(row["number"])}],
        "status": "completed",
        "medicationReference": {"reference": "#med"},
        "subject": {"reference": patient_url},
        "performer": _performer(context, row.get("operator_id")),
        "authorizingPrescription": _prescription_reference(context, prescription),
        "quantity": {"value": row["quantity"], "unit": "boîte(s)"},
        "whenHandedOver": _moment(row["validated_at"]),
    }
    if row.get("corrects_id"):
        resource["note"] = [{"text": f"Correction d'une ligne précédente : {row.get('correction_reason', '')}"}]
    return resource


def invoice_resource(
    context: PharmacyContext, patient_url: str, row: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    items = []
    for line in lines:
        product = context.products.get(line.get("product_id") or 0)
        code = (
            {"coding": [{"system": GTIN, "code": product["cip13"]}], "text": line["label"]}
            if product
            else {"coding": [{"code": line.get("act_code") or ""}], "text": line["label"]}
        )
        items.append(
            {
                "sequence": line["position"],
                "chargeItemCodeableConcept": code,
                "priceComponent": [
                    {"type": "base", "amount": _euros(line["total_cents"])},
                    {"type": "deduction", "code": {"text": "AMO"}, "amount": _euros(line["amo_cents"])},
                    {"type": "deduction", "code": {"text": "AMC"}, "amount": _euros(line["amc_cents"])},
                ],
            }
        )
    return {
        "resourceType": "Invoice",
        "id": f"fact-{row['number']}",
        "identifier": [{"system": context.system("invoice"), "value": str(row["number"])}],
        "status": "balanced",
        "subject": {"reference": patient_url},
        "date": _moment(row["validated_at"]),
        "participant": _performer(context, row.get("operator_id")),
        "lineItem": items,
        "totalGross": _euros(row["total_cents"]),
        "totalNet": _euros(row["patient_cents"]),
        "totalPriceComponent": [
            {"type": "deduction", "code": {"text": "AMO"}, "amount": _euros(row["amo_cents"])},
            {"type": "deduction", "code": {"text": "AMC"}, "amount": _euros(row["amc_cents"])},
        ],
    }


def bundle(
    context: PharmacyContext,
    archive_id: str,
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    identity: SharedIdentity | None,
) -> dict[str, Any]:
    """The patient's Bundle (``type`` collection) from the patient's rows by table."""
    patient = rows["patient"][0]
    patient_url = context.full_url("Patient", patient["id"])
    entries: list[dict[str, Any]] = [{"fullUrl": patient_url, "resource": patient_resource(context, patient, identity)}]
    prescriptions = {p["id"]: p for p in rows.get("prescription", ())}
    for row in rows.get("dispensation", ()):
        entries.append(
            {
                "fullUrl": context.full_url("MedicationDispense", row["number"]),
                "resource": dispense_resource(context, patient_url, row, prescriptions.get(row["prescription_id"])),
            }
        )
    lines_by_invoice: dict[int, list[Mapping[str, Any]]] = {}
    for line in rows.get("invoice_line", ()):
        lines_by_invoice.setdefault(line["invoice_id"], []).append(line)
    for row in rows.get("invoice", ()):
        entries.append(
            {
                "fullUrl": context.full_url("Invoice", row["number"]),
                "resource": invoice_resource(context, patient_url, row, lines_by_invoice.get(row["id"], [])),
            }
        )
    return {"resourceType": "Bundle", "id": archive_id, "type": "collection", "entry": entries}


def bundle_bytes(value: Mapping[str, Any]) -> bytes:
    # Compact: it is read by programs (people read its PDF copy), and only compact JSON goes through the C encoder
    # (indented, the bundles took a quarter of an export's time).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- the readable copy ---------------------------------------------------------------------------------------


def _paris(value: Any) -> str:
    if isinstance(value, datetime):
        return in_paris(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value or "")


def readable_lines(
    context: PharmacyContext,
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    identity: SharedIdentity | None,
    documents: Sequence[tuple[str, str]],
) -> list[str]:
    """The patient's file in French text lines (``# `` headings), for the PDF copy."""
    patient = rows["patient"][0]
    lines = [f"Officine : {context.name} (FINESS {context.finess})", "", "# Identité"]
    lines.append(f"Nom de naissance : {patient['birth_name']}   Prénoms : {patient['first_names']}")
    if patient.get("used_name") or patient.get("used_first_name"):
        lines.append(
            f"Nom utilisé : {patient.get('used_name') or ''}   Prénom utilisé : {patient.get('used_first_name') or ''}"
        )
    lines.append(f"Sexe : {getattr(patient['sex'], 'value', patient['sex'])}   Né(e) le : {patient['birth_date']}")
    if patient.get("birth_place_code"):
        lines.append(f"Lieu de naissance (code INSEE) : {patient['birth_place_code']}")
    if identity is not None:
        kind = "NIA" if identity.oid == OID_NIA else "NIR" if identity.oid == OID_NIR else "de test"
        lines.append(f"INS qualifiée : {identity.matricule} (matricule {kind}, OID {identity.oid})")
    else:
        lines.append("Identité non qualifiée : pas d'INS partageable.")
    lines.append(f"Identifiant local : {patient['id']}")
    dispensations = rows.get("dispensation", ())
    lines += ["", f"# Ordonnancier ({len(dispensations)} ligne(s))"]
    for row in dispensations:
        product = context.products.get(row["product_id"], {})
        lot = context.lots.get(row.get("lot_id") or 0)
        lines.append(
            f"n° {row['number']}  {_paris(row['validated_at'])}  {product.get('label', '?')} "
            f"(CIP {product.get('cip13', '?')})  quantité {row['quantity']}"
            + (f"  lot {lot['lot_number']}" if lot else "")
        )
    invoices = rows.get("invoice", ())
    lines += ["", f"# Factures ({len(invoices)})"]
    for row in invoices:
        lines.append(
            f"n° {row['number']}  {_paris(row['validated_at'])}  total {row['total_cents'] / 100:.2f} €  "
            f"AMO {row['amo_cents'] / 100:.2f} €  AMC {row['amc_cents'] / 100:.2f} €  "
            f"patient {row['patient_cents'] / 100:.2f} €"
        )
    lines += ["", f"# Documents de santé ({len(documents)})"]
    lines += [f"{name} : {title}" for name, title in documents]
    return lines
