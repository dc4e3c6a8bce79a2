"""The ``sandbox`` driver: JSON over HTTPS with the pharmacy's certificate, to ``lgo_sandbox.eordonnance``."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx
from lgo.api import ValidationError, client_tls_context, read_pem_files

from lgo_eordonnance.transport import PrescribedLine, Prescription, PrescriptionRefused, RetrievalUnavailable


@dataclass
class SandboxTransport:
    endpoint: str
    certificate_path: str
    key_path: str
    ca_path: str | None = None
    timeout_seconds: float = 5.0
    key_passphrase: str = ""

    def _client(self) -> httpx.Client:
        credential = read_pem_files(self.certificate_path, self.key_path, self.key_passphrase)
        context = client_tls_context(credential, self.ca_path)
        return httpx.Client(base_url=self.endpoint, verify=context, timeout=self.timeout_seconds)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            with self._client() as client:
                response = client.request(method, path, **kwargs)
        except ValidationError as exc:  # the certificate named in the settings cannot be read
            raise RetrievalUnavailable(
                f"{exc.message_fr} Poursuivez avec l'ordonnance papier.", detail=exc.detail
            ) from exc
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            raise RetrievalUnavailable(
                "Le service de l'ordonnance numérique ne répond pas : poursuivez avec l'ordonnance papier.",
                detail=repr(exc),
            ) from exc
        if response.status_code >= 500:
            raise RetrievalUnavailable(
                "Le service de l'ordonnance numérique est indisponible : poursuivez avec l'ordonnance papier.",
                detail=f"HTTP {response.status_code}",
            )
        body = response.json()
        if response.status_code >= 400:
            raise PrescriptionRefused(
                body.get("message_fr", "Ordonnance refusée par le service."),
                detail=f"HTTP {response.status_code} {body.get('code')}",
            )
        return body

    def retrieve(self, identifier: str) -> Prescription:
        data = self._call("GET", f"/prescriptions/{identifier}")
        return Prescription(
            identifier=data["identifier"],
            prescribed_on=data["prescribed_on"],
            prescriber_name=data["prescriber"]["name"],
            prescriber_rpps=data["prescriber"].get("rpps"),
            patient_birth_name=data["patient"]["birth_name"],
            patient_first_name=data["patient"]["first_name"],
            patient_birth_date=data["patient"]["birth_date"],
            patient_ins=data["patient"].get("ins"),
            renewals=int(data.get("renewals", 0)),
            dispensings_done=int(data.get("dispensings_done", 0)),
            lines=tuple(PrescribedLine(**line) for line in data["lines"]),
            already_dispensed={k: int(v) for k, v in data.get("already_dispensed", {}).items()},
        )

    def send_dispensing(self, identifier: str, execution: dict[str, Any], *, idempotency_key: str) -> str:
        data = self._call(
            "POST",
            f"/prescriptions/{identifier}/executions",
            json=execution,
            headers={"Idempotency-Key": idempotency_key},
        )
        return str(data["execution_id"])

    def send_billing_complement(
        self, identifier: str, execution_id: str, complement: dict[str, Any], *, idempotency_key: str
    ) -> None:
        self._call(
            "POST",
            f"/prescriptions/{identifier}/executions/{execution_id}/billing",
            json=complement,
            headers={"Idempotency-Key": idempotency_key},
        )


def create(settings: Any) -> SandboxTransport:
    """Factory registered as the ``sandbox`` driver: built from the plugin's settings."""
    return SandboxTransport(
        settings.endpoint,
        settings.certificate_path,
        settings.key_path,
        settings.ca_path or None,
        settings.timeout_seconds,
        settings.key_passphrase.get_secret_value(),
    )
