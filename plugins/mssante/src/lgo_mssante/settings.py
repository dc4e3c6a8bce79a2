"""Settings of the ``mssante`` plugin (the pharmacy's operator servers); mailboxes and habilitations are rows of
:mod:`lgo_mssante.model`, because they belong to operators."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class MssanteSettings(BaseModel):
    smtp_host: str = Field("", title="Serveur d'envoi (SMTP, port 587 avec STARTTLS)")
    smtp_port: int = Field(587, ge=1, le=65535, title="Port du serveur d'envoi")
    imap_host: str = Field("", title="Serveur de réception (IMAP avec STARTTLS)")
    imap_port: int = Field(143, ge=1, le=65535, title="Port du serveur de réception")
    ca_path: str = Field("", title="Autorités de confiance de l'opérateur (PEM)")
    timeout_seconds: float = Field(20.0, gt=0, le=120, title="Délai maximal d'un échange (secondes)")
    product_reference: str = Field("LGO-LIBRE", title="Référence produit déclarée sur Convergence (en-tête X-MSS-NIL)")
    patient_domain: str = Field("patient.mssante.fr", title="Domaine des messageries de Mon espace santé")
    annuaire_url: str = Field("", title="Adresse de l'API FHIR de l'Annuaire Santé")
    annuaire_api_key: SecretStr = Field(
        SecretStr(""), title="Clé d'API de l'Annuaire Santé (ESANTE-API-KEY)", description="Conservée chiffrée."
    )
    max_message_mb: int = Field(20, ge=1, le=100, title="Taille maximale d'un message reçu (Mo)")
    read_receipt: bool = Field(True, title="Demander un accusé de réception à chaque envoi")
