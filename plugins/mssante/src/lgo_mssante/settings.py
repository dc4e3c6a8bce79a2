"""Settings of the ``mssante`` plugin (the pharmacy's operator servers); mailboxes and habilitations are rows of
:mod:`lgo_mssante.model`, because they belong to operators. Certificates are not settings: the organisational
mailbox presents the organisation certificate of the « Certificat » page, a Mailiz mailbox its owner's own."""

from __future__ import annotations

from lgo.api import HostName, KnownAddress, ServiceUrl, extra_authorities_field, field_hints, timeout_field
from pydantic import BaseModel, Field, SecretStr

#: The Annuaire Santé's FHIR API (ANS), where the mailboxes of professionals are found.
ANNUAIRE_PRODUCTION = "https://gateway.api.esante.gouv.fr/fhir/v1"


class MssanteSettings(BaseModel):
    smtp_host: HostName = Field(
        "",
        title="Serveur d'envoi (SMTP, port 587 avec STARTTLS)",
        description="Nom du serveur d'envoi donné par l'opérateur de messagerie (Mailiz ou celui de la boîte "
        "organisationnelle) ; vide : pas d'envoi.",
    )
    smtp_port: int = Field(
        587, ge=1, le=65535, title="Port du serveur d'envoi", description="587 en général (STARTTLS obligatoire)."
    )
    imap_host: HostName = Field(
        "",
        title="Serveur de réception (IMAP avec STARTTLS)",
        description="Nom du serveur de réception donné par l'opérateur ; vide : pas de relève.",
    )
    imap_port: int = Field(
        143, ge=1, le=65535, title="Port du serveur de réception", description="143 en général (STARTTLS obligatoire)."
    )
    ca_path: str = extra_authorities_field()
    timeout_seconds: float = timeout_field(
        20.0, "Au-delà, l'envoi ou la relève est refait plus tard.", title_fr="Délai maximal d'un échange (secondes)"
    )
    product_reference: str = Field(
        "LGO-LIBRE",
        title="Référence produit déclarée sur Convergence (en-tête X-MSS-NIL)",
        description="Référence du logiciel enregistrée par l'éditeur auprès de l'ANS, jointe à chaque message.",
    )
    source_id: str = Field(
        "",
        pattern=r"^$|^[0-2](\.(0|[1-9][0-9]*))+$",
        max_length=64,
        title="Identifiant de l'installation (OID, sourceId des archives XDM)",
        description="Vide : un OID calculé pour l'officine d'après son FINESS (2.25.…).",
        json_schema_extra=field_hints(advanced=True),
    )
    patient_domain: str = Field(
        "patient.mssante.fr",
        title="Domaine des messageries de Mon espace santé",
        description="Domaine des adresses des patients (messagerie citoyenne de Mon espace santé).",
    )
    annuaire_url: ServiceUrl = Field(
        "",
        title="Adresse de l'API FHIR de l'Annuaire Santé",
        description="Pour retrouver l'adresse MSSanté d'un professionnel ; vide : la recherche n'est pas proposée.",
        json_schema_extra=field_hints(
            addresses=(KnownAddress(ANNUAIRE_PRODUCTION, "Annuaire Santé (ANS) — production", test=False),)
        ),
    )
    annuaire_api_key: SecretStr = Field(
        SecretStr(""),
        title="Clé d'API de l'Annuaire Santé (ESANTE-API-KEY)",
        description="Clé délivrée par l'ANS pour interroger l'Annuaire Santé (conservée chiffrée).",
    )
    max_message_mb: int = Field(
        20,
        ge=1,
        le=100,
        title="Taille maximale d'un message reçu (Mo)",
        description="Un message plus gros est mis en quarantaine sans être intégré.",
    )
    read_receipt: bool = Field(
        True,
        title="Demander un accusé de réception à chaque envoi",
        description="Le destinataire renvoie un accusé de lecture, visible dans le suivi des envois.",
    )
