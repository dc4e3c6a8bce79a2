"""Settings of the Pro Santé Connect plugin (one set per pharmacy, edited on the admin page)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import KnownAddress, ServiceUrl, extra_authorities_field, field_hints, timeout_field
from pydantic import BaseModel, Field, SecretStr

if TYPE_CHECKING:
    from lgo.api import Kernel

#: Espace de confiance « bac à sable » (BAS) de PSC, and production (conformance/services/psc).
BAS_BASE_URL = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet"
PRODUCTION_BASE_URL = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet"


class PscSettings(BaseModel):
    base_url: ServiceUrl = Field(
        BAS_BASE_URL,
        title="Adresse de Pro Santé Connect",
        description="Adresse du royaume PSC (…/auth/realms/esante-wallet) ; la découverte est lue "
        "à …/.well-known/wallet-openid-configuration",
        json_schema_extra=field_hints(
            addresses=(
                KnownAddress(BAS_BASE_URL, "Pro Santé Connect — bac à sable (BAS)", test=True),
                KnownAddress(PRODUCTION_BASE_URL, "Pro Santé Connect — production", test=False),
            )
        ),
    )
    client_id: str = Field("", title="Identifiant client", description="Identifiant du LGO déclaré auprès de PSC")
    client_secret: SecretStr = Field(
        SecretStr(""), title="Secret client", description="Secret fourni par l'ANS (conservé chiffré)"
    )
    redirect_uri: str = Field(
        "",
        title="Adresse de retour",
        description="Adresse de retour déclarée (…/plugins/psc/retour) ; vide : déduite de la page d'administration",
    )
    post_logout_redirect_uri: str = Field(
        "", title="Adresse après déconnexion", description="Vide : la page de connexion du LGO"
    )
    scope: str = Field(
        "openid scope_all",
        title="Portées demandées",
        description="Portées OpenID Connect demandées à PSC, séparées par des espaces.",
    )
    acr_values: str = Field(
        "eidas1",
        title="Niveau d'authentification exigé (acr)",
        description="eidas1 : carte CPS ou e-CPS ; imposé par PSC pour les services sensibles.",
    )
    leeway_seconds: int = Field(
        60,
        ge=0,
        le=600,
        title="Tolérance d'horloge (secondes)",
        description="Écart d'horloge admis avec PSC pour l'expiration des jetons",
    )
    refresh_margin_seconds: int = Field(
        60,
        ge=0,
        le=3600,
        title="Renouvellement anticipé (secondes)",
        description="Le jeton d'accès est renouvelé quand il expire dans moins de ce "
        "délai, tant que l'opérateur travaille",
    )
    ca_path: str = extra_authorities_field()
    timeout_seconds: float = timeout_field(
        15.0, "Délai maximal d'une réponse de Pro Santé Connect", title_fr="Délai d'attente (secondes)"
    )


def settings(kernel: Kernel, pharmacy_id: int) -> PscSettings:
    value = kernel.plugin_settings(pharmacy_id, "psc")
    assert isinstance(value, PscSettings)
    return value
