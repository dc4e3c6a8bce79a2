"""The DP at the counter's screen (``LazyHooks(counter=)``): the windows of recalls, alerts and the history, the
consultation key, the banner panel and the DP's state for the status bar; the work is :mod:`lgo_dp.counter`'s."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import CounterPanel, CounterShortcut, CounterWindow, ServiceStatus

from lgo_dp import counter

if TYPE_CHECKING:
    from lgo.api import ActionAnswered, ActionRequired, CounterCommand, CounterView, Kernel

TEMPLATES = Path(__file__).parent / "counter_templates"


def windows() -> list[CounterWindow]:
    bulletin_keys = "Entrée : accusé de lecture (le comptoir est libéré sur tous les postes)"
    return [
        CounterWindow("dp.rappel", "bulletin.html", TEMPLATES, keys_fr=bulletin_keys),
        CounterWindow("dp.alerte", "bulletin.html", TEMPLATES, keys_fr=bulletin_keys),
        CounterWindow("dp.historique", "history.html", TEMPLATES, keys_fr="Entrée : fermer ; Échap : plus tard"),
    ]


def shortcuts() -> list[CounterShortcut]:
    return [CounterShortcut(counter.CONSULT_KEY, "Dossier Pharmaceutique", counter.CONSULT, needs_patient=True)]


def command(kernel: Kernel, event: CounterCommand) -> list[ActionRequired]:
    if event.command != counter.CONSULT:
        return []
    return [counter.history_window(kernel, event.pharmacy_id, event.operator_id, event.patient_id, tuple(event.cip13s))]


def answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    counter.answer(
        kernel, event.pharmacy_id, event.operator_id, event.kind, dict(event.data), event.choice, event.patient_id
    )
    return []


def panels(kernel: Kernel, view: CounterView) -> list[CounterPanel]:
    if view.patient_id is None:
        return []
    lines = counter.banner_lines(kernel, view.pharmacy_id, view.patient_id)
    hint = f"{counter.CONSULT_KEY} : consulter le DP (12 mois, toutes les officines)"
    return [CounterPanel("banner", "Dossier Pharmaceutique", lines, "info", hint)]


def service_status(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[ServiceStatus]:
    found = counter.status(kernel, pharmacy_id, patient_id)
    return [ServiceStatus("dp", "DP", found.state, found.detail_fr, found.waiting_for_patient)]  # type: ignore[arg-type]
