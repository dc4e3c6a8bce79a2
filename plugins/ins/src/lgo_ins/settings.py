"""Settings of the ``ins`` plugin (per pharmacy, edited on the admin page)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class InsSettings(BaseModel):
    insi_endpoint: str = Field(
        "",
        title="Adresse du téléservice INSi",
        description="Vide : pas d'appel INSi automatique à la sélection du patient.",
    )
    authorisation_number: str = Field("", title="Numéro d'autorisation du logiciel (IDAM)")
    software_name: str = Field("LGO libre", title="Nom du logiciel (ContexteLPS)")
    software_version: str = Field("0.1.0", title="Version du logiciel (ContexteLPS)")
    instance: str = Field("", title="Identifiant de l'instance (ContexteLPS)")
    mode: Literal["INSI-AUTO", "INSI-MANU"] = Field(
        "INSI-AUTO",
        title="Mode d'authentification",
        description="INSI-AUTO : le certificat de l'officine suffit. INSI-MANU : chaque appel porte l'assertion signée "
        "par la carte CPS de l'opérateur (module « cartes »), avec un certificat INSI-MANU.",
    )
    billing_number: str = Field(
        "",
        title="Numéro de facturation de l'officine (assertion INSI-MANU)",
        description="Vide : le numéro FINESS de l'officine.",
    )
    certificate_path: str = Field(
        "",
        title="Certificat INSi (PEM)",
        description="Vide : le certificat d'organisation « insi » déposé par l'administrateur est utilisé.",
    )
    key_path: str = Field("", title="Clé du certificat INSi (PEM)")
    key_passphrase: SecretStr = Field(
        SecretStr(""), title="Phrase de passe de la clé (PEM chiffré)", description="Vide si la clé n'est pas chiffrée."
    )
    ca_path: str = Field("", title="Autorités de confiance (PEM)")
    timeout_seconds: float = Field(10.0, gt=0, le=120, title="Délai maximal d'un appel INSi (secondes)")
    reprompt_count: int = Field(
        3,
        ge=0,
        le=20,
        title="Relances « aucune pièce présentée »",
        description="Nombre de délivrances suivantes où la pièce d'identité est redemandée.",
    )
