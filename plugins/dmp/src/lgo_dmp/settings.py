"""Settings of the DMP plugin, and the ONE place that reads the pharmacy's client certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import ClientCredential, certificates
from lgo.api import xds_codes as codes
from pydantic import BaseModel, Field, SecretStr

if TYPE_CHECKING:
    from lgo.api import Kernel


class DmpSettings(BaseModel):
    endpoint: str = Field(
        "https://localhost/si-dmp-server/v2/services",
        description="Adresse des services DMP (…/registry et …/repository)",
    )
    certificate_path: str = Field(
        "", description="Certificat d'organisation en fichier PEM (sinon celui déposé dans Paramètres › Certificat)"
    )
    key_path: str = Field("", description="Clé privée du certificat d'organisation (fichier PEM)")
    key_passphrase: SecretStr = Field(
        SecretStr(""), description="Phrase de passe de la clé PEM si elle est chiffrée (conservée chiffrée)"
    )
    ca_path: str = Field("", description="Autorités de confiance du DMP (PEM ; sinon celles du système)")
    auto_feed_types: list[str] = Field(
        default_factory=lambda: list(codes.AUTO_FED_DEFAULT),
        description="Types de documents envoyés automatiquement (codes LOINC)",
    )
    source_id: str = Field("1.2.250.1.999.1.1", description="OID de l'instance du logiciel (sourceId)")
    default_visible_to_patient: bool = True
    default_visible_to_legal_representatives: bool = True
    default_visible_to_professionals: bool = True
    timeout_seconds: float = Field(30.0, gt=0, le=300)


def settings(kernel: Kernel, pharmacy_id: int) -> DmpSettings:
    value = kernel.plugin_settings(pharmacy_id, "dmp")
    assert isinstance(value, DmpSettings)
    return value


def client_credentials(kernel: Kernel, pharmacy_id: int) -> tuple[ClientCredential, str | None]:
    """The pharmacy's organisation certificate and the authorities trusted for the DMP (the system's when none is
    named): PEM files named in the settings, else the certificate the administrator stored."""
    current = settings(kernel, pharmacy_id)
    with kernel.transaction() as session:
        credential = certificates.pharmacy_credential(
            session,
            pharmacy_id,
            cert_path=current.certificate_path,
            key_path=current.key_path,
            key_passphrase=current.key_passphrase.get_secret_value(),
        )
    return credential, current.ca_path or None
