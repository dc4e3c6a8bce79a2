"""The ``json`` driver: the prescription base spoken as JSON over HTTPS with the pharmacy's certificate.

The Assurance Maladie's API is not public (decision 0700): this driver speaks the interface the project assumed,
which the ordonnance numérique sandbox (``lgo_sandbox.eordonnance``) implements. It is therefore for the sandbox and
tests, and never chosen by default: a pharmacy selects its transport on the « Fournisseurs » page, and a real one
comes as another driver of ``lgo.providers.eordonnance``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx
from lgo.api import ClientCredential, client_tls_context

from lgo_eordonnance.transport import PrescribedLine, Prescription, PrescriptionRefused, RetrievalUnavailable

#: What the « Fournisseurs » page shows for this driver.
LABEL_FR = "JSON en HTTPS — interface supposée, pour le bac à sable (l'API de l'Assurance Maladie n'est pas publique)"


@dataclass
class JsonHttpsTransport:
    endpoint: str
    credential: ClientCredential
    ca_path: str | None = None
    timeout_seconds: float = 5.0

    def _client(self) -> httpx.Client:
        context = client_tls_context(self.credential, self.ca_path)
        return httpx.Client(base_url=self.endpoint, verify=context, timeout=self.timeout_seconds)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            with self._client() as client:
                response = client.request(method, path, **kwargs)
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


def create(settings: Any, credential: ClientCredential) -> JsonHttpsTransport:
    """Factory registered as the ``json`` driver: the plugin's settings and the pharmacy's certificate (the
    one rule of :func:`lgo.api.pharmacy_credential`, applied by the plugin)."""
    return JsonHttpsTransport(settings.endpoint, credential, settings.ca_path or None, settings.timeout_seconds)


create.label = LABEL_FR  # type: ignore[attr-defined]
