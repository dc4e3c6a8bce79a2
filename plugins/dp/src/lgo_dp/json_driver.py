"""The ``json`` driver: the DP spoken as JSON over HTTPS with the pharmacy's certificate (mutual TLS).

The DP's specification is not public: this driver speaks the interface the project assumed (decision 1100), which
the DP sandbox (``lgo_sandbox.dp``) implements. It is for the sandbox and tests, never chosen by default: a pharmacy
selects its transport on the « Fournisseurs » page, and the real one comes as another driver of ``lgo.providers.dp``.

The wire format is the project's own: one JSON ``POST`` per operation under ``/v1``, the patient's INS
and traits in the body (never in an address, which ends up in logs), an ``Idempotency-Key`` header on writes, French
error messages with a code. Every answer is read through strict models: a malformed or hostile answer is a service
fault (:class:`DpUnavailable`, retried), never an exception the counter would show raw.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal

import httpx
from lgo.api import LgoError, TlsEndpoint
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from lgo_dp.transport import (
    Bulletin,
    BulletinKind,
    BulletinProduct,
    DispensedLine,
    DpFile,
    DpLine,
    DpPatient,
    DpRefused,
    DpUnavailable,
    FileState,
    Professional,
    Refusal,
)

#: The most lines a history answer may hold (36 months of daily dispensing, with room): beyond, the answer is refused.
MAX_LINES = 20_000
MAX_ANSWER_BYTES = 8_000_000

UNAVAILABLE_FR = "Le Dossier Pharmaceutique ne répond pas : réessayez dans quelques minutes."

#: What the « Fournisseurs » page shows for this driver.
LABEL_FR = "JSON en HTTPS — interface supposée, pour le bac à sable (la spécification du DP n'est pas publique)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _FileAnswer(_Strict):
    etat: Literal["absent", "actif", "refus", "ferme"]
    cree_le: date | None = None
    refuse_le: date | None = None
    ferme_le: date | None = None


class _Pharmacy(_Strict):
    finess: str = Field(pattern=r"^\d{9}$")
    nom: str = Field(max_length=200)


class _Line(_Strict):
    reference: str = Field(min_length=1, max_length=80)
    date: date
    cip13: str = Field(pattern=r"^\d{13}$")
    libelle: str = Field(max_length=300)
    quantite: int = Field(ge=1, le=10_000)
    lot: str | None = Field(default=None, max_length=40)
    officine: _Pharmacy


class _History(_Strict):
    lignes: list[_Line] = Field(max_length=MAX_LINES)


class _Product(_Strict):
    cip13: str = Field(pattern=r"^\d{13}$")
    libelle: str = Field(default="", max_length=300)
    lots: list[str] = Field(default_factory=list, max_length=500)


class _Bulletin(_Strict):
    id: str = Field(min_length=1, max_length=64)
    type: Literal["rappel", "alerte"]
    titre: str = Field(min_length=1, max_length=300)
    message: str = Field(max_length=5000)
    emetteur: str = Field(max_length=200)
    publie_le: datetime
    produits: list[_Product] = Field(default_factory=list, max_length=500)


class _Bulletins(_Strict):
    bulletins: list[_Bulletin] = Field(max_length=1000)
    curseur: str | None = Field(default=None, max_length=64)


class _Error(_Strict):
    code: str = Field(default="", max_length=40)
    message_fr: str = Field(default="", max_length=500)


@dataclass
class JsonHttpsTransport:
    endpoint: TlsEndpoint

    def __post_init__(self) -> None:
        self._context: ssl.SSLContext | None = None

    def _ssl(self) -> ssl.SSLContext:
        """The TLS context, built once per driver (the key is decrypted once)."""
        if self._context is None:
            self._context = self.endpoint.ssl_context()
        return self._context

    # --- plumbing ----------------------------------------------------------------------------------------------

    def _call(self, path: str, body: dict[str, Any], *, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        try:
            context = self._ssl()
            with httpx.Client(
                base_url=self.endpoint.url.rstrip("/"), verify=context, timeout=self.endpoint.timeout_seconds
            ) as client:
                response = client.post(path, json=body, headers=headers)
        except LgoError as exc:  # the certificate cannot be read: the administrator must fix it, say so
            message = f"{exc.message_fr} Le Dossier Pharmaceutique est inaccessible."
            raise DpUnavailable(message, detail=exc.detail) from exc
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            raise DpUnavailable(UNAVAILABLE_FR, detail=repr(exc)) from exc
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise DpUnavailable(UNAVAILABLE_FR, detail=f"HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise DpUnavailable(UNAVAILABLE_FR, detail=f"answer of {len(response.content)} bytes")
        try:
            data = response.json()
        except ValueError as exc:
            raise DpUnavailable(
                "Réponse illisible du Dossier Pharmaceutique : réessayez plus tard.", detail=f"not JSON: {exc}"
            ) from exc
        if response.status_code >= 400:
            error = _read(_Error, data if isinstance(data, dict) else {})
            code = error.code if error.code in set(Refusal) else Refusal.REQUEST
            raise DpRefused(
                error.message_fr or "Le Dossier Pharmaceutique a refusé la demande.",
                code=code,
                detail=f"HTTP {response.status_code} {error.code}",
            )
        return data

    @staticmethod
    def _patient(patient: DpPatient) -> dict[str, Any]:
        return {**asdict(patient), "first_names": list(patient.first_names)}

    @staticmethod
    def _professional(professional: Professional) -> dict[str, Any]:
        return asdict(professional)

    def _file(self, path: str, body: dict[str, Any], key: str | None = None) -> DpFile:
        answer = _read(_FileAnswer, self._call(path, body, key=key))
        return DpFile(FileState(answer.etat), answer.cree_le, answer.refuse_le, answer.ferme_le)

    # --- the protocol ------------------------------------------------------------------------------------------

    def file(self, patient: DpPatient, professional: Professional) -> DpFile:
        body = {"patient": self._patient(patient), "professionnel": self._professional(professional)}
        return self._file("/v1/dossier/etat", body)

    def create(self, patient: DpPatient, professional: Professional, *, idempotency_key: str) -> DpFile:
        body = {"patient": self._patient(patient), "professionnel": self._professional(professional)}
        return self._file("/v1/dossier/creation", body, idempotency_key)

    def refuse(
        self, patient: DpPatient, professional: Professional, refused_on: date, *, idempotency_key: str
    ) -> DpFile:
        body = {
            "patient": self._patient(patient),
            "professionnel": self._professional(professional),
            "date": refused_on.isoformat(),
        }
        return self._file("/v1/dossier/refus", body, idempotency_key)

    def close(self, patient: DpPatient, professional: Professional, *, idempotency_key: str) -> DpFile:
        body = {"patient": self._patient(patient), "professionnel": self._professional(professional)}
        return self._file("/v1/dossier/fermeture", body, idempotency_key)

    def feed(self, patient: DpPatient, lines: Sequence[DispensedLine], *, idempotency_key: str) -> None:
        body = {
            "patient": self._patient(patient),
            "lignes": [
                {
                    "reference": line.reference,
                    "date": line.dispensed_on.isoformat(),
                    "cip13": line.cip13,
                    "libelle": line.label,
                    "quantite": line.quantity,
                    "lot": line.lot,
                    "remplace": line.replaces,
                }
                for line in lines
            ],
        }
        self._call("/v1/dispensations", body, key=idempotency_key)

    def mask(
        self, patient: DpPatient, professional: Professional, references: Sequence[str], *, idempotency_key: str
    ) -> None:
        body = {
            "patient": self._patient(patient),
            "professionnel": self._professional(professional),
            "references": list(references),
        }
        self._call("/v1/dispensations/masquage", body, key=idempotency_key)

    def history(self, patient: DpPatient, professional: Professional, since: date) -> list[DpLine]:
        body = {
            "patient": self._patient(patient),
            "professionnel": self._professional(professional),
            "depuis": since.isoformat(),
        }
        answer = _read(_History, self._call("/v1/historique", body))
        return [
            DpLine(
                line.reference,
                line.date,
                line.cip13,
                line.libelle,
                line.quantite,
                line.lot or None,
                line.officine.finess,
                line.officine.nom,
            )
            for line in answer.lignes
        ]

    def bulletins(self, after: str | None) -> tuple[list[Bulletin], str | None]:
        answer = _read(_Bulletins, self._call("/v1/bulletins", {"apres": after}))
        found = [
            Bulletin(
                id=item.id,
                kind=BulletinKind(item.type),
                title=item.titre,
                message=item.message,
                issuer=item.emetteur,
                published_at=item.publie_le,
                products=tuple(BulletinProduct(p.cip13, p.libelle, tuple(p.lots)) for p in item.produits),
            )
            for item in answer.bulletins
        ]
        return found, answer.curseur or after

    def acknowledge(self, bulletin_id: str, professional: Professional, at: datetime, *, idempotency_key: str) -> None:
        body = {"bulletin": bulletin_id, "professionnel": self._professional(professional), "le": at.isoformat()}
        self._call("/v1/bulletins/accuse", body, key=idempotency_key)


def _read(model: type[_Strict], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise DpUnavailable(
            "Réponse inattendue du Dossier Pharmaceutique : réessayez plus tard (si cela persiste, signalez-le à "
            "votre éditeur).",
            detail=f"{model.__name__}: {exc.errors(include_url=False)[:3]}",
        ) from exc


def create(endpoint: TlsEndpoint) -> JsonHttpsTransport:
    """Factory registered as the ``json`` driver: the DP's address with the pharmacy's certificate (the one rule of
    :func:`lgo.api.pharmacy_credential`, applied by the plugin)."""
    return JsonHttpsTransport(endpoint)


create.label = LABEL_FR  # type: ignore[attr-defined]
