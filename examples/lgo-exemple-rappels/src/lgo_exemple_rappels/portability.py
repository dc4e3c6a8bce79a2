"""How the example plugin's table travels in a pharmacy's export (hook ``lgo_portable_tables``): a third-party plugin
declares its tables exactly as the project's own do."""

from __future__ import annotations

from typing import Any

from lgo.api import PortableTable


def portable_tables() -> list[Any]:
    from lgo_exemple_rappels.model import reminders

    return [
        PortableTable(
            reminders,
            "Rappels de vaccination à proposer (module d'exemple)",
            {"label": "Texte du rappel.", "due_at": "Date à partir de laquelle proposer le rappel."},
            references={"patient_id": "patient"},
        )
    ]
