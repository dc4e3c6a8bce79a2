"""Settings of the DMP plugin, and the ONE place that reads the pharmacy's client certificate for the DMP.

The certificate is not a setting: the DMP uses the organisation certificate stored on the « Certificat » page
(decisions 0901, 0903); the authorities of its chain are trusted for the DMP's servers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import KnownAddress, ServiceUrl, extra_authorities_field, field_hints, timeout_field
from lgo.api import xds_codes as codes
from pydantic import BaseModel, Field, field_validator

if TYPE_CHECKING:
    from lgo.api import ClientCredential, Kernel

#: The DMP's web services for software (LPS): production, and the integration platform the ANS opens to vendors.
DMP_PRODUCTION = "https://lps2.dmp.gouv.fr/si-dmp-server/v2/services"
DMP_TEST = "https://lps.dev1.dmp.gouv.fr/si-dmp-server/v2/services"

#: Document types a pharmacy may feed automatically, with the names pharmacists know them by.
FEEDABLE_TYPES = {code: codes.DOCUMENT_KINDS[code].type_display for code in codes.AUTO_FED_DEFAULT}

#: An OID, or nothing (then derived from the FINESS).
_OID = r"^$|^[0-2](\.(0|[1-9][0-9]*))+$"


class DmpSettings(BaseModel):
    endpoint: ServiceUrl = Field(
        "",
        title="Adresse des services du DMP",
        description="Adresse commune des services (…/registry et …/repository) ; vide : le DMP n'est pas appelé.",
        json_schema_extra=field_hints(
            addresses=(
                KnownAddress(DMP_TEST, "DMP — plateforme de test (intégration)", test=True),
                KnownAddress(DMP_PRODUCTION, "DMP — production", test=False),
            )
        ),
    )
    auto_feed_types: list[str] = Field(
        default_factory=lambda: list(codes.AUTO_FED_DEFAULT),
        title="Documents envoyés automatiquement au DMP",
        description="Cochés : envoyés dès leur validation si le patient a une identité qualifiée (INS) ; les autres "
        "s'envoient à la demande.",
        json_schema_extra=field_hints(choices=FEEDABLE_TYPES),
    )
    source_id: str = Field(
        "",
        pattern=_OID,
        title="Identifiant de l'installation auprès du DMP (OID)",
        description="OID de cette installation du logiciel (sourceId, LPS_ID) ; vide : un OID calculé pour "
        "l'officine (2.25.… d'après son FINESS).",
        json_schema_extra=field_hints(advanced=True),
    )
    default_visible_to_patient: bool = Field(
        True,
        title="Visible par le patient",
        description="Choix proposé par défaut à l'envoi : le patient voit le document dans Mon espace santé.",
    )
    default_visible_to_legal_representatives: bool = Field(
        True,
        title="Visible par les représentants légaux",
        description="Choix proposé par défaut à l'envoi, pour un patient mineur ou protégé.",
    )
    default_visible_to_professionals: bool = Field(
        True,
        title="Visible par les autres professionnels",
        description="Choix proposé par défaut à l'envoi : les professionnels autorisés voient le document.",
    )
    ca_path: str = extra_authorities_field()
    timeout_seconds: float = timeout_field(
        30.0,
        "Au-delà, l'envoi est refait plus tard par la file d'envoi ; la consultation affiche une erreur.",
        title_fr="Délai maximal d'un échange avec le DMP (secondes)",
        most=300,
    )

    @field_validator("auto_feed_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = [code for code in value if code not in FEEDABLE_TYPES]
        if unknown:
            raise ValueError("Type de document inconnu : " + ", ".join(unknown) + ".")
        return list(dict.fromkeys(value))


def source_id(current: DmpSettings, finess: str) -> str:
    """The configured OID, else the pharmacy's own, derived from its FINESS as for MSSanté's XDM archives (one
    software instance, one sourceId)."""
    from lgo.api import identifiers  # python-stdnum: not for ``lgo --help``, which reads this module

    return current.source_id or identifiers.derived_oid(f"lgo:pharmacy:{finess}")


def settings(kernel: Kernel, pharmacy_id: int) -> DmpSettings:
    value = kernel.plugin_settings(pharmacy_id, "dmp")
    assert isinstance(value, DmpSettings)
    return value


def client_credentials(kernel: Kernel, pharmacy_id: int) -> tuple[ClientCredential, str | None]:
    """The pharmacy's organisation certificate and the extra authorities trusted for the DMP (none by default: the
    system's and those of the certificate's chain, see ``client_tls_context``)."""
    from lgo.api import certificates

    current = settings(kernel, pharmacy_id)
    with kernel.transaction() as session:
        credential = certificates.pharmacy_credential(session, pharmacy_id)
    return credential, current.ca_path or None
