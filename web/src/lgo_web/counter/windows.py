"""Rendering an :class:`lgo.actions.ActionRequired`: in the window its plugin registered for the action's kind, or
generically from its French title, message and choices.

The plugins' template folders are mounted once under a prefix of their own (``<plugin>/<template>``), so a window
cannot shadow the counter's templates or another plugin's. Every value is escaped by Jinja's autoescape; a template
that fails to render falls back to the generic window (the failure is logged and recorded against the plugin), so a
broken plugin never hides an action from the pharmacist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, render_template
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from lgo.actions import ActionRequired
from lgo.kernel import Kernel
from markupsafe import Markup

log = logging.getLogger(__name__)

GENERIC = "counter/action_generic.html"


def date_fr(value: object) -> str:
    """``YYYY-MM-DD`` (an unknown day or month written 00, as the RNIV does) as ``JJ/MM/AAAA``; anything else as is.
    Available to windows as the Jinja filter ``date_fr``."""
    text = str(value or "")
    parts = text.split("-")
    if len(parts) == 3 and len(parts[0]) == 4 and all(p.isdigit() for p in parts):
        day, month = (p if p != "00" else "??" for p in (parts[2], parts[1]))
        return f"{day}/{month}/{parts[0]}"
    return text


def install_template_folders(app: Flask, kernel: Kernel) -> None:
    """Add each plugin's counter templates to the app's loader, under the plugin's name, and the ``date_fr``
    filter."""
    app.jinja_env.filters["date_fr"] = date_fr
    folders: dict[str, FileSystemLoader] = {}
    for plugin, window in kernel.counter_windows():
        folders.setdefault(plugin, FileSystemLoader(str(window.folder)))
    if folders:
        assert app.jinja_loader is not None
        app.jinja_loader = ChoiceLoader([app.jinja_loader, PrefixLoader(folders, delimiter="/")])


@dataclass(frozen=True)
class Window:
    """What the counter's dialog shows for one action."""

    html: Markup
    keys_fr: str
    plugin_window: bool


def render_action(
    kernel: Kernel, pharmacy_id: int, action: ActionRequired, *, answer_url: str, error_fr: str = "", **context: Any
) -> Window:
    found = kernel.counter_window(pharmacy_id, action.kind)
    values = {"action": action, "answer_url": answer_url, "error_fr": error_fr, **context}
    if found is not None:
        plugin, window = found
        try:
            html = render_template(f"{plugin}/{window.template}", **values)
            return Window(Markup(html), window.keys_fr, True)
        except Exception as exc:  # a broken window must not hide the action: generic rendering, failure recorded
            log.exception("counter window %s of plugin %s failed", window.template, plugin)
            kernel._record_failure_safely(plugin, "counter_window", exc, pharmacy_id)
    keys = "1 à 9 : choix ; Échap : plus tard" if action.choices else "Entrée : compris"
    return Window(Markup(render_template(GENERIC, **values)), keys, False)
