"""Settings of the ``ins`` plugin (per pharmacy, edited on the admin page). The certificate is not a setting: INSi
uses the one stored on the « Certificat » page for INSi, else the organisation certificate (decision 0901)."""

from __future__ import annotations

from typing import Literal

from lgo.api import KnownAddress, ServiceUrl, extra_authorities_field, field_hints, timeout_field
from pydantic import BaseModel, Field

#: The Assurance Maladie's INSi service over mutual TLS (official WSDL DESIR_ICIR_EXP 1.5.0 for the test platform).
INSI_TEST = "https://qualiflps-services-ps-tlsm.ameli.fr:443/lps"
INSI_PRODUCTION = "https://services-ps-tlsm.ameli.fr/lps"


class InsSettings(BaseModel):
    insi_endpoint: ServiceUrl = Field(
        "",
        title="Adresse du téléservice INSi",
        description="Plateforme de test ou de production de l'Assurance Maladie ; vide : pas d'appel INSi à la "
        "sélection du patient.",
        json_schema_extra=field_hints(
            addresses=(
                KnownAddress(INSI_TEST, "Assurance Maladie — plateforme de test (qualification)", test=True),
                KnownAddress(INSI_PRODUCTION, "Assurance Maladie — production", test=False),
            )
        ),
    )
    authorisation_number: str = Field(
        "",
        title="Numéro d'autorisation du logiciel (IDAM)",
        description="Numéro délivré à l'éditeur pour le téléservice INSi, envoyé dans chaque appel.",
    )
    software_name: str = Field(
        "LGO libre",
        title="Nom du logiciel (ContexteLPS)",
        description="Nom du logiciel déclaré à l'Assurance Maladie, envoyé dans chaque appel.",
    )
    software_version: str = Field(
        "0.1.0",
        title="Version du logiciel (ContexteLPS)",
        description="Version du logiciel déclarée à l'Assurance Maladie.",
    )
    instance: str = Field(
        "",
        title="Identifiant de l'installation (ContexteLPS)",
        description="Identifie ce poste auprès de l'Assurance Maladie ; vide : « lgo- » suivi du numéro de "
        "l'officine dans la base.",
    )
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
    ca_path: str = extra_authorities_field()
    timeout_seconds: float = timeout_field(
        10.0,
        "Au-delà, le comptoir continue sans attendre et la recherche est relancée en arrière-plan.",
        title_fr="Délai maximal d'un appel INSi (secondes)",
    )
    reprompt_count: int = Field(
        3,
        ge=0,
        le=20,
        title="Relances « aucune pièce présentée »",
        description="Nombre de délivrances suivantes où la pièce d'identité est redemandée.",
    )
