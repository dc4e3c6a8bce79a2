"""How the MSSanté plugin's tables travel in a pharmacy's export (hook ``lgo_portable_tables``): the mailboxes
(without their passwords), every message sent and received, the documents received."""

from __future__ import annotations

from typing import Any

from lgo.api import ColumnTransform, PortableTable, table_of


def _decrypt(value: Any) -> Any:
    from lgo.api import secrets

    return secrets.decrypt(value) if isinstance(value, str) and value else value


def _encrypt(value: Any) -> Any:
    from lgo.api import secrets

    return secrets.encrypt(value) if isinstance(value, str) and value else value


def portable_tables() -> list[Any]:
    from lgo_mssante.model import MssAccount, MssHabilitation, MssMessage, MssReceivedDocument

    return [
        PortableTable(
            table_of(MssAccount),
            "MSSanté : boîtes aux lettres de l'officine (sans les mots de passe)",
            {
                "kind": "personnelle (nominative) ou organisationnelle.",
                "address": "Adresse MSSanté.",
                "operator_id": "Titulaire d'une boîte nominative (operator.id).",
                "login": "Identifiant de connexion.",
                "smtp_host": "Serveur SMTP propre à la boîte.",
                "smtp_port": "Port SMTP.",
                "imap_host": "Serveur IMAP propre à la boîte.",
                "imap_port": "Port IMAP.",
                "active": "Vrai si la boîte est utilisée.",
            },
            references={"operator_id": "operator"},
            excluded={"password_encrypted": "Secret : le mot de passe de la boîte se saisit à nouveau."},
            import_defaults={"password_encrypted": ""},
            shared=True,
        ),
        PortableTable(
            table_of(MssHabilitation),
            "MSSanté : habilitations des opérateurs sur la boîte organisationnelle",
            {
                "account_id": "Boîte concernée (mssante_account.id).",
                "habilitation": "Administrateur, Gestionnaire ou Utilisateur.",
            },
            references={"operator_id": "operator"},
            shared=True,
        ),
        PortableTable(
            table_of(MssMessage),
            "MSSanté : messages envoyés et reçus (traces)",
            {
                "account_id": "Boîte de l'échange (mssante_account.id).",
                "direction": "sortant ou entrant.",
                "message_id": "Message-ID du courriel (RFC 5322).",
                "peer": "Destinataire(s) ou expéditeur.",
                "subject": "Objet.",
                "status": "en_file, envoye, accuse, refuse, integre, recu ou quarantaine.",
                "error_code": "Code d'erreur du CI-SIS (900 à 906) d'un message reçu non intégré.",
                "reason_fr": "Explication de l'état.",
                "raw_encrypted": "Message reçu complet (MIME), en clair dans l'archive.",
                "handled_at": "Date à laquelle le message reçu a été traité (UTC).",
                "handled_by": "Opérateur qui l'a traité (operator.id).",
                "body": "Texte du message.",
                "in_reply_to": "Message auquel celui-ci répond (mssante_message.id).",
                "forward_of": "Message que celui-ci transfère (mssante_message.id).",
            },
            references={
                "patient_id": "patient",
                "operator_id": "operator",
                "handled_by": "operator",
                "in_reply_to": "mssante_message",
                "forward_of": "mssante_message",
            },
            transforms={
                "raw_encrypted": ColumnTransform(
                    _decrypt, _encrypt, "Déchiffré à l'export, chiffré à nouveau à l'import avec la clé du serveur."
                )
            },
        ),
        PortableTable(
            table_of(MssReceivedDocument),
            "MSSanté : documents de santé reçus et rattachés à un patient",
            {
                "message_id": "Message qui les portait (mssante_message.id).",
                "unique_id": "Identifiant unique (OID) du document.",
                "type_code": "Code LOINC du type de document.",
                "title": "Titre du document.",
                "content": "Le document (fichier de l'archive du patient).",
                "received_at": "Date de réception (UTC).",
                "attached_by": "Opérateur qui a rattaché le document au patient (operator.id).",
            },
            references={"patient_id": "patient", "attached_by": "operator"},
        ),
    ]
