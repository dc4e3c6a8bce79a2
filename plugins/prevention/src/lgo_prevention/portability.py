"""How the prevention plugin's table travels in a pharmacy's export (hook ``lgo_portable_tables``)."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_prevention.model import Bilan

    return [
        PortableTable(
            table_of(Bilan),
            "Mon bilan prévention (le plan personnalisé de prévention est dans health_document)",
            {
                "operator_id": "Pharmacien qui a mené le bilan (operator.id).",
                "band": "Tranche d'âge : 18-25, 45-50, 60-65 ou 70-75.",
                "held_on": "Date du bilan.",
                "status": "État : open, billed, waiting_identity (identité à qualifier), validated ou cancelled.",
                "notes": "Ce qui a été dit, thème par thème (JSON).",
                "plan": "Plan personnalisé de prévention : thème, objectif, actions (JSON).",
                "additional_act": "Autre acte réalisé pendant le bilan (RVA, VGP, RKD).",
                "document_id": "Plan personnalisé de prévention (health_document.id).",
                "physician_name": "Médecin traitant.",
                "physician_mssante": "Adresse MSSanté du médecin traitant.",
                "physician_status_fr": "Où en est l'envoi du plan au médecin traitant.",
                "mssante_message_id": "Message MSSanté au médecin traitant (mssante_message.id).",
                "validated_by": "Pharmacien qui a validé (operator.id).",
            },
            references={
                "patient_id": "patient",
                "operator_id": "operator",
                "invoice_id": "invoice",
                "document_id": "health_document",
                "mssante_message_id": "mssante_message",
                "validated_by": "operator",
            },
        )
    ]
