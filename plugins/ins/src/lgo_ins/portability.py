"""How the INS plugin's tables travel in a pharmacy's export (hook ``lgo_portable_tables``)."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_ins.model import InsHistory, InsIdentity

    return [
        PortableTable(
            table_of(InsIdentity),
            "Identité nationale de santé : statut de l'identité de chaque patient (RNIV)",
            {
                "matricule": "Matricule INS (NIR ou NIA, 13 caractères et clé) renvoyé par l'INSi.",
                "oid": "OID de l'autorité du matricule (NIR, NIA, ou de test).",
                "traits": "Traits INS tels que renvoyés par l'INSi (JSON : nom, prénoms, sexe, date et lieu de "
                "naissance).",
                "insi_checked": "Vrai si l'identité a été récupérée ou vérifiée par le téléservice INSi.",
                "document_checked": "Vrai si une pièce d'identité à haut niveau de confiance a été contrôlée. Statut "
                "RNIV : ni l'un ni l'autre = provisoire, INSi seul = récupérée, pièce seule = validée, les deux = "
                "qualifiée.",
                "document_kind": "Type de la pièce d'identité contrôlée.",
                "doubtful": "Identité douteuse (attribut RNIV).",
                "fictitious": "Identité fictive (attribut RNIV).",
                "prompts_left": "Nombre de délivrances qui redemanderont une pièce d'identité.",
                "document_note": "Dernière remarque sur la pièce d'identité (refus, pièce différente...).",
                "pending_result": "Réponse INSi obtenue en arrière-plan, en attente de confirmation (JSON).",
                "no_ins_reason": "Raison pour laquelle le patient ne peut pas avoir d'INS.",
            },
            references={"patient_id": "patient"},
        ),
        PortableTable(
            table_of(InsHistory),
            "Identité nationale de santé : matricules successifs d'un patient",
            {
                "matricule": "Matricule INS précédemment connu.",
                "oid": "OID de l'autorité de ce matricule.",
                "recorded_at": "Date à laquelle il a été remplacé (UTC).",
            },
            references={"patient_id": "patient"},
        ),
    ]
