"""The Annuaire Santé (FHIR API of the ANS) to choose a professional's MSSanté address: search by name, RPPS, town
(``address-city``) or mailbox, then keep the mailboxes of the wanted type (PER nominative, ORG organisational, APP
applicative, CAB cabinet) on the client side, from the ``as-ext-mailbox-mss-metadata`` extension of each ``telecom``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from lgo.api import LgoError, ValidationError

MAILBOX_EXTENSION = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
IDNAT_PS = "urn:oid:1.2.250.1.71.4.2.1"


class AnnuaireUnavailable(LgoError):
    """The Annuaire Santé does not answer: the pharmacist may type the address."""


@dataclass(frozen=True)
class Mailbox:
    address: str
    type: str


@dataclass(frozen=True)
class Professional:
    name: str
    national_id: str
    mailboxes: tuple[Mailbox, ...]
    #: The town of the professional's address, when the Annuaire gives one.
    town: str = ""

    @property
    def rpps(self) -> str:
        """The RPPS number (the idNat_PS without its leading 8)."""
        return self.national_id[1:] if self.national_id.startswith("8") else self.national_id


def _mailboxes(resource: dict[str, Any]) -> tuple[Mailbox, ...]:
    found = []
    for telecom in resource.get("telecom", []):
        if telecom.get("system") != "email":
            continue
        kind = ""
        for extension in telecom.get("extension", []):
            if extension.get("url") != MAILBOX_EXTENSION:
                continue
            for sub in extension.get("extension", []):
                if sub.get("url") == "type":
                    codings = sub.get("valueCodeableConcept", {}).get("coding", [])
                    kind = codings[0].get("code", "") if codings else ""
        if kind:
            found.append(Mailbox(str(telecom.get("value", "")), kind))
    return tuple(found)


def _professional(resource: dict[str, Any]) -> Professional:
    name: dict[str, Any] = next(iter(resource.get("name", [])), {})
    display = " ".join([*name.get("given", []), name.get("family", "")]).strip()
    national = next((i.get("value", "") for i in resource.get("identifier", []) if i.get("system") == IDNAT_PS), "")
    town = next((str(a.get("city", "")) for a in resource.get("address", []) if a.get("city")), "")
    return Professional(display, national, _mailboxes(resource), town)


def search(
    base_url: str,
    *,
    name: str | None = None,
    rpps: str | None = None,
    town: str | None = None,
    mailbox: str | None = None,
    mailbox_type: str | None = "PER",
    api_key: str = "",
    timeout: float = 10.0,
) -> list[Professional]:
    """Professionals matching one criterion, with only their mailboxes of ``mailbox_type`` (None: all)."""
    params: dict[str, str] = {}
    if name:
        params["name"] = name
    if rpps:
        params["identifier"] = f"{IDNAT_PS}|{rpps if rpps.startswith('8') else '8' + rpps}"
    if town:
        params["address-city"] = town
    if mailbox:
        params["mailbox-mss"] = mailbox
    if not params:
        raise ValidationError("Indiquez un nom, un RPPS, une ville ou une adresse à rechercher.", detail="empty search")
    if not base_url:
        raise AnnuaireUnavailable(
            "L'adresse de l'Annuaire Santé n'est pas configurée : saisissez l'adresse.", detail="annuaire_url empty"
        )
    headers = {"Accept": "application/fhir+json"}
    if api_key:
        headers["ESANTE-API-KEY"] = api_key
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/Practitioner", params=params, headers=headers, timeout=timeout)
        response.raise_for_status()
        bundle = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise AnnuaireUnavailable(
            "L'Annuaire Santé ne répond pas : saisissez l'adresse MSSanté du destinataire.", detail=repr(exc)
        ) from exc
    results = []
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") != "Practitioner":
            continue
        professional = _professional(resource)
        boxes = tuple(b for b in professional.mailboxes if mailbox_type is None or b.type == mailbox_type)
        if boxes:
            results.append(Professional(professional.name, professional.national_id, boxes, professional.town))
    return results
