"""Settings of the ``eordonnance`` plugin. The certificate is not a setting: the transport presents the organisation
certificate stored on the « Certificat » page (decision 0901)."""

from __future__ import annotations

from lgo.api import ServiceUrl, extra_authorities_field, timeout_field
from pydantic import BaseModel, Field


class EOrdonnanceSettings(BaseModel):
    endpoint: ServiceUrl = Field(
        "",
        title="Adresse du service de l'ordonnance numérique",
        description="Adresse de la base des prescriptions pour le transport choisi dans « Fournisseurs » ; aucune "
        "adresse publique n'est connue (l'API de l'Assurance Maladie n'est pas publiée).",
    )
    ca_path: str = extra_authorities_field()
    timeout_seconds: float = timeout_field(
        5.0, "Au-delà, le pharmacien est invité à poursuivre avec l'ordonnance papier.", most=60
    )
