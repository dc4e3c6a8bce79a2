"""How the interviews plugin's table travels in a pharmacy's export (hook ``lgo_portable_tables``)."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_entretiens.model import InterviewRecord

    return [
        PortableTable(
            table_of(InterviewRecord),
            "Entretiens pharmaceutiques et bilans partagés de médication (le compte rendu CDA est dans "
            "health_document)",
            {
                "operator_id": "Pharmacien qui a mené l'entretien (operator.id).",
                "kind": "entretien ou bpm (bilan partagé de médication).",
                "theme": "Thème (AVK, AOD, ASTHME, GROSSESSE, ANTICANCEREUX) ou étape du bilan.",
                "act_code": "Acte facturé.",
                "held_on": "Date de l'entretien.",
                "analysis": "Analyse du pharmacien.",
                "recommendations": "Recommandations.",
                "medications": "Traitements examinés (JSON : libellé, CIP13, dernière délivrance, boîtes).",
                "answers": "Réponses au questionnaire de l'entretien, par question (JSON).",
                "follow_up": "Suivi prévu (JSON).",
                "message_id": "Message MSSanté qui a porté le compte rendu (mssante_message.id).",
            },
            references={
                "patient_id": "patient",
                "operator_id": "operator",
                "document_id": "health_document",
                "message_id": "mssante_message",
            },
        )
    ]
