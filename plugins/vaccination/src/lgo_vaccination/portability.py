"""How the vaccination plugin's table travels in a pharmacy's export (hook ``lgo_portable_tables``)."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_vaccination.model import VaccinationNote

    return [
        PortableTable(
            table_of(VaccinationNote),
            "Vaccination : notes de vaccination (données de l'acte, le document CDA est dans health_document)",
            {
                "operator_id": "Pharmacien vaccinateur (operator.id).",
                "vaccine_label": "Libellé du vaccin.",
                "cip13": "CIP13 du vaccin.",
                "cis": "Code CIS du vaccin.",
                "atc": "Classe ATC du vaccin.",
                "disease_fr": "Maladie(s) visée(s).",
                "lot_number": "Numéro de lot injecté.",
                "lot_expiry": "Péremption du lot.",
                "act_code": "Acte facturé (VGP, INJ, RVA).",
                "act_type": "Type d'acte (HL7, IMMUNIZ).",
                "route_code": "Voie d'administration (EDQM).",
                "site_code": "Site d'injection (SNOMED CT).",
                "administered_at": "Date et heure de l'injection (UTC).",
                "comment": "Commentaire du pharmacien.",
                "status": "to_check (à vérifier), waiting_identity, validated, replaced ou cancelled.",
                "hidden_from_patient": "Document masqué au patient.",
                "masked_from_professionals": "Document masqué aux professionnels.",
                "replaces_note_id": "Note corrigée par celle-ci (vaccination_note.id).",
                "validated_by": "Pharmacien qui a validé (operator.id).",
            },
            references={
                "patient_id": "patient",
                "operator_id": "operator",
                "invoice_id": "invoice",
                "product_id": "product",
                "document_id": "health_document",
                "validated_by": "operator",
            },
        )
    ]
