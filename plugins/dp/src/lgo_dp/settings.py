"""Settings of the ``dp`` plugin, and the one place that builds the transport: the selected driver, given the DP's
address and the pharmacy's certificate (mutual TLS).

A driver is kept for :data:`DRIVER_SECONDS` per pharmacy and settings, so that a consultation at the counter does not
decrypt the certificate and build a TLS context each time; changed settings take effect at once, a certificate
replaced in the store within that delay."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from lgo.api import TlsEndpoint, certificates
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from lgo.api import Kernel

    from lgo_dp.transport import DpTransport

PLUGIN = "dp"
DRIVER_SECONDS = 60.0

_drivers: dict[tuple[int, str, str], tuple[float, Any]] = {}
_lock = threading.Lock()


class DpSettings(BaseModel):
    endpoint: str = Field("https://localhost/dp", title="Adresse du service du Dossier Pharmaceutique")
    certificate_path: str = Field(
        "", title="Certificat d'organisation en fichier PEM (sinon celui déposé dans Paramètres › Certificat)"
    )
    key_path: str = Field("", title="Clé privée du certificat (fichier PEM)")
    ca_path: str = Field("", title="Autorités de confiance du DP (PEM ; sinon celles du système)")
    timeout_seconds: float = Field(5.0, gt=0, le=60, title="Délai maximal d'un appel (secondes)")


def settings(kernel: Kernel, pharmacy_id: int) -> DpSettings:
    value = kernel.plugin_settings(pharmacy_id, PLUGIN)
    assert isinstance(value, DpSettings)
    return value


def endpoint(kernel: Kernel, pharmacy_id: int) -> TlsEndpoint:
    """The DP's address with the pharmacy's certificate: PEM files named in the settings, else the certificate the
    administrator stored (French error when there is none)."""
    current = settings(kernel, pharmacy_id)
    with kernel.transaction() as session:
        credential = certificates.pharmacy_credential(
            session, pharmacy_id, cert_path=current.certificate_path, key_path=current.key_path
        )
    return TlsEndpoint(current.endpoint, credential, current.ca_path or None, current.timeout_seconds)


def transport(kernel: Kernel, pharmacy_id: int) -> DpTransport:
    """The driver selected for this pharmacy (``lgo.providers.dp``), built on :func:`endpoint`."""
    name = kernel.selected_provider(pharmacy_id, PLUGIN) or ""
    key = (pharmacy_id, name, settings(kernel, pharmacy_id).model_dump_json())
    now = time.monotonic()
    with _lock:
        cached = _drivers.get(key)
    if cached is not None and now - cached[0] < DRIVER_SECONDS:
        driver: DpTransport = cached[1]
        return driver
    factory = kernel.provider(pharmacy_id, PLUGIN)
    driver = factory(endpoint(kernel, pharmacy_id))
    with _lock:
        for stale in [k for k in _drivers if k[0] == pharmacy_id]:
            del _drivers[stale]
        _drivers[key] = (now, driver)
    return driver
