"""How the Pro Santé Connect plugin's tables travel in a pharmacy's export (hook ``lgo_portable_tables``)."""

from __future__ import annotations

from typing import Any

from lgo.api import ExcludedTable, PortableTable, table_of


def portable_tables() -> list[Any]:
    from lgo_psc.model import PscBinding

    return [
        PortableTable(
            table_of(PscBinding),
            "Pro Santé Connect : opérateur lié à chaque identité e-CPS ou CPS",
            {
                "sub": "Identifiant de la personne chez Pro Santé Connect.",
                "rpps": "RPPS de la personne.",
                "bound_at": "Date de la liaison (UTC).",
                "last_sign_in_at": "Date de la dernière connexion (UTC).",
            },
            references={"operator_id": "operator"},
            shared=True,
        ),
        ExcludedTable("psc_session", "Sessions ouvertes et jetons chiffrés du serveur d'origine."),
    ]
