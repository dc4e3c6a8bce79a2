"""The Appli carte Vitale (ApCV): the QR code or NFC data from the patient's phone, sent to the ApCV service, gives
the beneficiary and the INS the health insurance qualified; the ``ins`` plugin records it as qualifiée without an
identity document (docs/decisions/0822)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from lgo.api import InsTraits, SharedIdentity, TlsEndpoint

from lgo_cards.errors import CardError

if TYPE_CHECKING:
    from lgo.api import Kernel

PATH = "/apcv/v1/identification"
#: A QR code holds at most 4 296 alphanumeric characters: a longer scan is not one.
MAX_SCAN = 4296


@dataclass(frozen=True)
class ApcvIdentity(InsTraits):
    """The beneficiary as the ApCV service returns them: the INS the health insurance qualified, with its traits."""

    birth_place_code: str | None
    rank: int


#: The ApCV service: its address and the pharmacy's certificate (mutual TLS).
Endpoint = TlsEndpoint


def clean(data: str) -> str:
    """The scanned text as the service expects it (a scanner may add spaces or a line end); what no QR code of the
    app can hold (control characters, non-ASCII, an oversized scan, bytes) is refused in French."""
    if not isinstance(data, str):
        raise CardError(
            "Lecture illisible : scannez à nouveau le QR code de l'appli carte Vitale.", detail=type(data).__name__
        )
    cleaned = "".join(data.split())
    if not cleaned:
        raise CardError("Aucune donnée lue depuis l'appli carte Vitale : scannez à nouveau le QR code du patient.")
    if len(cleaned) > MAX_SCAN or not cleaned.isascii() or not cleaned.isprintable():
        raise CardError(
            "Ce code n'est pas un QR code de l'appli carte Vitale : scannez celui affiché sur le téléphone du patient.",
            detail=f"{len(cleaned)} characters, {cleaned[:40]!r}",
        )
    return cleaned


def identify(endpoint: Endpoint, data: str) -> ApcvIdentity:
    """Ask the ApCV service who presented ``data``; every failure is a French :class:`CardError`."""
    try:
        with httpx.Client(verify=endpoint.ssl_context(), timeout=endpoint.timeout_seconds) as client:
            response = client.post(endpoint.url.rstrip("/") + PATH, json={"donnees": clean(data)})
    except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
        raise CardError(
            "Le service de l'appli carte Vitale est injoignable : demandez la carte Vitale ou une pièce d'identité.",
            detail=repr(exc),
        ) from exc
    try:
        body: dict[str, Any] = response.json()
    except ValueError as exc:
        raise CardError(
            "Réponse illisible du service de l'appli carte Vitale.", detail=f"HTTP {response.status_code}"
        ) from exc
    if response.status_code != 200:
        raise CardError(
            str(body.get("erreur") or "Le service de l'appli carte Vitale a refusé la demande."),
            detail=f"HTTP {response.status_code}: {body}",
        )
    person = body["beneficiaire"]
    return ApcvIdentity(
        matricule=person["matricule"],
        oid=person["oid"],
        birth_name=person["birth_name"],
        first_names=tuple(person["first_names"]),
        sex=person["sex"],
        birth_date=person["birth_date"],
        birth_place_code=person.get("birth_place_code"),
        rank=int(person["rank"]),
    )


def endpoint(kernel: Kernel, pharmacy_id: int) -> Endpoint:
    """The one place that picks the client certificate: the organisation certificate stored by the administrator."""
    from lgo.api import certificates

    from lgo_cards.settings import CardsSettings

    settings = kernel.plugin_settings(pharmacy_id, "cards")
    assert isinstance(settings, CardsSettings)
    if not settings.apcv_endpoint:
        raise CardError("L'appli carte Vitale n'est pas configurée (adresse du service absente des réglages).")
    with kernel.transaction() as session:
        credential = certificates.pharmacy_credential(session, pharmacy_id)
    return Endpoint(settings.apcv_endpoint, credential, settings.apcv_ca_path or None, settings.timeout_seconds)


def qualify(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None, identity: ApcvIdentity) -> Any:
    """Hand the identity to the ``ins`` plugin as qualifiée (no identity document); returns its status."""
    if not kernel.is_active(pharmacy_id, "ins"):
        raise CardError(
            "Le module INS n'est pas actif dans l'officine : l'identité de l'appli carte Vitale ne peut pas être "
            "enregistrée."
        )
    from lgo_ins import api as ins_api  # declared optional in the manifest, active here

    return ins_api.record_card_identity(
        kernel,
        pharmacy_id,
        patient_id,
        operator_id,
        SharedIdentity.of(identity, patient_id=patient_id, birth_place_code=identity.birth_place_code),
    )
