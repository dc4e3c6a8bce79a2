"""Settings of the DMP plugin, and the ONE place that reads the pharmacy's client certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.errors import ValidationError
from pydantic import BaseModel, Field

from lgo_dmp import codes

if TYPE_CHECKING:
    from lgo.kernel import Kernel


class DmpSettings(BaseModel):
    endpoint: str = Field("https://localhost/si-dmp-server/v2/services",
                          description="Adresse des services DMP (…/registry et …/repository)")
    certificate_path: str = Field("", description="Certificat d'organisation de l'officine (PEM)")
    key_path: str = Field("", description="Clé privée du certificat d'organisation (PEM)")
    ca_path: str = Field("", description="Autorités de confiance du DMP (PEM)")
    auto_feed_types: list[str] = Field(default_factory=lambda: list(codes.AUTO_FED_DEFAULT),
                                       description="Types de documents envoyés automatiquement (codes LOINC)")
    source_id: str = Field("1.2.250.1.999.1.1", description="OID de l'instance du logiciel (sourceId)")
    default_visible_to_patient: bool = True
    default_visible_to_legal_representatives: bool = True
    default_visible_to_professionals: bool = True
    timeout_seconds: float = Field(30.0, gt=0, le=300)


def settings(kernel: Kernel, pharmacy_id: int) -> DmpSettings:
    value = kernel.plugin_settings(pharmacy_id, "dmp")
    assert isinstance(value, DmpSettings)
    return value


def client_credentials(kernel: Kernel, pharmacy_id: int) -> tuple[str, str, str]:
    """(certificate, key, CA bundle) paths of the pharmacy's organisation certificate.

    Switch to the kernel's certificate store (``lgo.domain.certificates``) here once it lands."""
    current = settings(kernel, pharmacy_id)
    if not (current.certificate_path and current.key_path and current.ca_path):
        raise ValidationError(
            "Le certificat d'organisation de l'officine n'est pas configuré pour le DMP "
            "(paramètres du module DMP).", detail=f"pharmacy {pharmacy_id}: no DMP certificate",
        )
    return current.certificate_path, current.key_path, current.ca_path
