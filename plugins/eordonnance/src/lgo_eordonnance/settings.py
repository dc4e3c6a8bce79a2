"""Settings of the ``eordonnance`` plugin."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class EOrdonnanceSettings(BaseModel):
    endpoint: str = Field("", title="Adresse du service de l'ordonnance numérique")
    certificate_path: str = Field("", title="Certificat de l'officine (PEM)")
    key_path: str = Field("", title="Clé du certificat (PEM)")
    key_passphrase: SecretStr = Field(
        SecretStr(""), title="Phrase de passe de la clé (PEM chiffré)", description="Vide si la clé n'est pas chiffrée."
    )
    ca_path: str = Field("", title="Autorités de confiance (PEM)")
    timeout_seconds: float = Field(5.0, gt=0, le=60, title="Délai maximal d'un appel (secondes)")
