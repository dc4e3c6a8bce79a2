"""Settings of the ``dp`` plugin, and the one place that builds the transport: the selected driver, given the DP's
address and the pharmacy's certificate (mutual TLS). The certificate is not a setting: it is the one stored on the
« Certificat » page (decision 0904).

A driver is kept for :data:`DRIVER_SECONDS` per pharmacy and settings, so that a consultation at the counter does not
decrypt the certificate and build a TLS context each time; changed settings take effect at once, a certificate
replaced in the store within that delay."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from lgo.api import ServiceUrl, extra_authorities_field, timeout_field
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from lgo.api import Kernel, TlsEndpoint

    from lgo_dp.transport import DpTransport

PLUGIN = "dp"
DRIVER_SECONDS = 60.0

_drivers: dict[tuple[int, str, str], tuple[float, Any]] = {}
_lock = threading.Lock()


class DpSettings(BaseModel):
    endpoint: ServiceUrl = Field(
        "",
        title="Adresse du service du Dossier Pharmaceutique",
        description="Adresse du DP pour le transport choisi dans « Fournisseurs » ; aucune adresse publique n'est "
        "connue (la spécification du DP est remise aux éditeurs par l'Ordre des pharmaciens). Vide : le DP n'est pas "
        "appelé, les délivrances attendent dans la file d'envoi.",
    )
    ca_path: str = extra_authorities_field()
    timeout_seconds: float = timeout_field(
        5.0,
        "Au-delà, le comptoir continue sans le DP : la consultation montre les délivrances de "
        "l'officine, les envois sont réessayés.",
        most=60,
    )


def settings(kernel: Kernel, pharmacy_id: int) -> DpSettings:
    value = kernel.plugin_settings(pharmacy_id, PLUGIN)
    assert isinstance(value, DpSettings)
    return value


def endpoint(kernel: Kernel, pharmacy_id: int) -> TlsEndpoint:
    """The DP's address with the pharmacy's certificate (the one rule: the certificate stored on the « Certificat »
    page, decision 0904); a French :class:`DpUnavailable` when the address is not set."""
    from lgo.api import TlsEndpoint, certificates  # cryptography and the database: not for ``lgo --help``

    from lgo_dp.transport import DpUnavailable

    current = settings(kernel, pharmacy_id)
    if not current.endpoint:
        raise DpUnavailable(
            "L'adresse du Dossier Pharmaceutique n'est pas renseignée (Paramètres › Dossier Pharmaceutique) : le DP "
            "n'est pas joint, les délivrances attendent dans la file d'envoi.",
            detail="dp endpoint not configured",
        )
    with kernel.transaction() as session:
        credential = certificates.pharmacy_credential(session, pharmacy_id)
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
