"""How the screening plugin's table travels in a pharmacy's export (hook ``lgo_portable_tables``)."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_depistage.model import DepistageTest

    return [
        PortableTable(
            table_of(DepistageTest),
            "Dépistage : tests rapides d'orientation diagnostique (l'attestation BIO-TROD et la dispensation liée sont "
            "dans health_document)",
            {
                "operator_id": "Pharmacien qui réalise le test (operator.id).",
                "kind": "Test réalisé (angine, cystite, grippe, covid).",
                "status": "État : open, billed, waiting_identity (identité à qualifier), validated ou cancelled.",
                "prescriber_name": "Prescripteur de l'ordonnance conditionnelle « si TROD positif ».",
                "prescriber_rpps": "RPPS de ce prescripteur.",
                "prescribed_on": "Date de cette ordonnance.",
                "answers": "Réponses au questionnaire d'éligibilité (JSON).",
                "eligible": "Vrai si le patient est éligible au test.",
                "reasons": "Critères d'exclusion relevés (JSON, en français).",
                "device_udi": "UDI du dispositif (forme lisible GS1) ou saisie.",
                "device_gtin": "GTIN du dispositif.",
                "device_lot": "Lot du dispositif.",
                "device_expiry": "Date de péremption du dispositif.",
                "device_serial": "Numéro de série du dispositif.",
                "device_maker": "Fabricant du dispositif.",
                "device_reference": "Référence du dispositif.",
                "tested_at": "Date et heure du test (UTC).",
                "results": "Résultats : code LOINC de l'observation → code SNOMED CT du résultat (JSON).",
                "positive": "Vrai si le test est positif.",
                "comment": "Commentaire du pharmacien.",
                "antibiotic": "Antibiotique du protocole délivré.",
                "dose_mg": "Dose par prise (mg).",
                "intakes_per_day": "Prises par jour.",
                "days": "Durée du traitement (jours).",
                "boxes": "Boîtes délivrées.",
                "orientation_fr": "Orientation écrite sur l'attestation sans antibiotique.",
                "lot_number": "Lot de l'antibiotique délivré.",
                "attestation_document_id": "Attestation BIO-TROD (health_document.id).",
                "dispensation_document_id": "Dispensation eDISP-MED liée (health_document.id).",
                "physician_name": "Médecin traitant.",
                "physician_rpps": "RPPS du médecin traitant.",
                "physician_mssante": "Adresse MSSanté du médecin traitant.",
                "fallback": "Repli vers le médecin traitant par MSSanté : aucun, envoyé, indisponible, inutile.",
                "fallback_message_id": "Message MSSanté du repli (mssante_message.id).",
                "validated_by": "Pharmacien qui a validé (operator.id).",
            },
            references={
                "patient_id": "patient",
                "operator_id": "operator",
                "product_id": "product",
                "invoice_id": "invoice",
                "prescription_id": "prescription",
                "attestation_document_id": "health_document",
                "dispensation_document_id": "health_document",
                "fallback_message_id": "mssante_message",
                "validated_by": "operator",
            },
        )
    ]
