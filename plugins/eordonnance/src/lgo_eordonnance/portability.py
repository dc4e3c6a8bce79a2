"""How the ordonnance numérique plugin's table travels in a pharmacy's export (hook ``lgo_portable_tables``)."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_eordonnance.model import Execution

    return [
        PortableTable(
            table_of(Execution),
            "Ordonnance numérique : exécution de chaque e-prescription (lignes et écarts)",
            {
                "operator_id": "Pharmacien qui a exécuté (operator.id).",
                "identifier": "Identifiant de l'ordonnance numérique (QR code).",
                "renewal_number": "0 pour la première délivrance, n pour le n-ième renouvellement.",
                "prescription": "Ordonnance telle que récupérée du service (JSON).",
                "lines": "Décision pour chaque ligne prescrite : délivrée, substituée, non délivrée, motif (JSON).",
                "status": "draft, billed, dispensing_sent, complement_queued ou complement_sent.",
                "remote_execution_id": "Identifiant de l'exécution chez le service de l'ordonnance numérique.",
            },
            references={
                "patient_id": "patient",
                "operator_id": "operator",
                "prescription_id": "prescription",
                "invoice_id": "invoice",
            },
        )
    ]
