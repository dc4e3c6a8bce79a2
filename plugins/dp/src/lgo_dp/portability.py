"""How the Dossier Pharmaceutique plugin's tables travel in a pharmacy's export (hook ``lgo_portable_tables``): the
consent of each patient, the traces of every line fed to the DP, the recalls and alerts received."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_dp.model import DpBulletin, DpSync, FedLine, PatientFile

    return [
        PortableTable(
            table_of(PatientFile),
            "Dossier Pharmaceutique : DP et consentement de chaque patient",
            {
                "state": "absent, actif, refus ou ferme (état du DP du patient tel que connu de l'officine).",
                "created_on": "Date de création du DP.",
                "refused_on": "Date du refus du patient.",
                "refusal_valid_until": "Fin de validité du refus (dix ans).",
                "closed_on": "Date de fermeture du DP.",
                "updated_by": "Opérateur qui a enregistré le dernier changement (operator.id).",
            },
            references={"patient_id": "patient", "updated_by": "operator"},
        ),
        PortableTable(
            table_of(FedLine),
            "Dossier Pharmaceutique : alimentation, une ligne par produit délivré (traces)",
            {
                "reference": "Identifiant de la ligne dans le DP (FINESS et numéro d'ordonnancier...).",
                "dispensation_id": "Ligne d'ordonnancier (dispensation.id).",
                "cip13": "CIP13 du produit transmis.",
                "label": "Libellé transmis.",
                "lot_number": "Numéro de lot transmis.",
                "quantity": "Quantité transmise.",
                "dispensed_at": "Date de la délivrance (UTC).",
                "replaces": "Référence de la ligne corrigée par celle-ci.",
                "status": "queued, sent (transmise), waiting_identity, waiting_file, not_fed ou failed.",
                "reason_fr": "Pourquoi la ligne attend ou n'est pas transmise.",
                "masked": "Vrai si la ligne est masquée à la demande du patient.",
                "rounds": "Nombre de mises en file d'envoi.",
                "sent_at": "Date de transmission au DP (UTC).",
            },
            references={
                "patient_id": "patient",
                "invoice_id": "invoice",
                "dispensation_id": "dispensation",
                "product_id": "product",
                "lot_id": "stock_lot",
            },
        ),
        PortableTable(
            table_of(DpBulletin),
            "Dossier Pharmaceutique : rappels de lots et alertes sanitaires reçus",
            {
                "remote_id": "Identifiant du bulletin chez l'émetteur.",
                "kind": "rappel (DP-Rappels) ou alerte (DP-Alertes).",
                "title": "Titre du bulletin.",
                "message": "Texte du bulletin.",
                "issuer": "Émetteur.",
                "published_at": "Date de publication (UTC).",
                "products": "Produits et lots concernés (JSON).",
                "received_at": "Date de réception (UTC).",
                "acknowledged_by": "Opérateur qui en a pris connaissance (operator.id).",
                "acknowledged_at": "Date de prise de connaissance (UTC).",
            },
            references={"acknowledged_by": "operator"},
            shared=True,
        ),
        PortableTable(
            table_of(DpSync),
            "Dossier Pharmaceutique : dernier relevé des bulletins",
            {
                "bulletin_cursor": "Curseur du dernier bulletin relevé.",
                "last_fetch_at": "Date du dernier relevé (UTC).",
                "last_error_fr": "Dernière erreur du relevé.",
            },
        ),
    ]
