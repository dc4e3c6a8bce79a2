"""Settings of the ``cards`` plugin (per pharmacy, edited on the admin page)."""

from __future__ import annotations

from lgo.api import ServiceUrl, extra_authorities_field, timeout_field
from pydantic import BaseModel, Field


class CardsSettings(BaseModel):
    pkcs11_module: str = Field(
        "",
        title="Module PKCS#11 de la CPS (cryptolib CPS)",
        description="Chemin de la bibliothèque fournie par l'ANS (par exemple "
        "/usr/lib/libcps3_pkcs11_lux.so). Vide : la CPS n'est pas utilisée.",
    )
    cps_token_label: str = Field(
        "", title="Libellé de la CPS attendue", description="Vide : la première CPS présente dans un lecteur."
    )
    cps_idle_minutes: int = Field(
        30,
        ge=1,
        le=720,
        title="Verrouillage de la CPS après inactivité (minutes)",
        description="Une CPS déverrouillée au poste signe pour son titulaire jusqu'à ce "
        "délai sans usage, son verrouillage ou son retrait.",
    )
    vitale_reader: str = Field(
        "",
        title="Lecteur de carte Vitale",
        description="Début du nom du lecteur PC/SC ; vide : le premier lecteur avec une carte.",
    )
    apcv_endpoint: ServiceUrl = Field(
        "",
        title="Adresse du service Appli carte Vitale",
        description="Vide : l'appli carte Vitale n'est pas proposée. Le certificat de l'officine (page « Certificat ») "
        "authentifie les appels.",
    )
    apcv_ca_path: str = extra_authorities_field("du service ApCV")
    timeout_seconds: float = timeout_field(10.0, "Au-delà, le comptoir continue sans la carte et le dit au pharmacien.")
