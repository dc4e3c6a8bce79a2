"""How the DMP plugin's tables travel in a pharmacy's export (hook ``lgo_portable_tables``): the traces of every
document sent to the DMP."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_dmp.model import DmpConsultation, DmpSubmission

    return [
        PortableTable(
            table_of(DmpSubmission),
            "DMP : envoi de chaque document de santé au DMP (traces)",
            {
                "unique_id": "Identifiant unique (OID) du document envoyé.",
                "status": "waiting (en attente d'une identité qualifiée), queued (en file), sent (envoyé), failed "
                "(échec) ou deprecated (supprimé du DMP).",
                "reason_fr": "Pourquoi le document attend ou a échoué.",
                "attempts": "Nombre de tentatives d'envoi.",
                "last_error": "Dernière erreur technique.",
                "result": "registered (enregistré) ou already (déjà présent au DMP).",
                "sends": "Nombre d'envois réussis (un renvoi après une réponse perdue compte).",
                "sent_at": "Date d'enregistrement au DMP (UTC).",
            },
            references={"patient_id": "patient", "document_id": "health_document"},
        ),
        PortableTable(
            table_of(DmpConsultation),
            "DMP : dernière consultation du DMP de chaque patient (les documents nouveaux depuis)",
            {
                "last_consulted_at": "Date de la dernière consultation (UTC).",
                "reference_at": "Date de référence des documents déjà vus (UTC).",
                "last_operator_id": "Opérateur de la dernière consultation (operator.id).",
            },
            references={"patient_id": "patient", "last_operator_id": "operator"},
        ),
    ]
