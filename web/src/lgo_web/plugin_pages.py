"""Plugins' own admin pages: the blueprints returned by ``lgo_register_web_blueprints`` are mounted under
``/plugins/<plugin>/``, reachable only while the plugin is active in the pharmacy, behind the same sign-in, CSRF
protection and read-only rule for roles that cannot change settings. A blueprint with an ``index`` view gets a
link in the navigation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, current_app, g, request
from lgo.kernel import Kernel

from lgo_web.app import kernel_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NavEntry:
    plugin: str
    label: str
    endpoint: str


def register(app: Flask, kernel: Kernel) -> None:
    owners: dict[str, str] = {}
    nav: list[NavEntry] = []
    declared = kernel.hooks.web_blueprints()
    # The kernel's one fail-closed rule for names: a blueprint name taken twice takes both plugins out.
    refused = kernel.registry.refuse_collisions(
        "la page web", [(plugin, bp.name) for plugin, bp in declared], reserved=set(app.blueprints)
    )
    for plugin, blueprint in declared:
        if plugin in refused:
            continue
        try:
            app.register_blueprint(blueprint, url_prefix=f"/plugins/{plugin}")
        except Exception:  # a broken blueprint must not take the whole page down
            log.exception("blueprint %s of plugin %s could not be registered", blueprint.name, plugin)
            continue
        owners[blueprint.name] = plugin
        if f"{blueprint.name}.index" in app.view_functions:
            manifest = kernel.registry.manifest(plugin)
            nav.append(NavEntry(plugin, manifest.label, f"{blueprint.name}.index"))
    app.extensions["lgo.plugin_blueprints"] = owners
    app.extensions["lgo.plugin_nav"] = nav

    @app.before_request
    def only_active_plugins() -> Any:
        plugin = owners.get(request.blueprint or "")
        if plugin is None:
            return None
        user = g.get("user")
        if user is not None:
            pharmacy_id = user.pharmacy_id
        else:
            from lgo_web.auth import pharmacy

            try:
                pharmacy_id = pharmacy().id
            except Exception:
                abort(404)
        if not kernel_of(current_app).is_active(pharmacy_id, plugin):
            abort(404)
        return None


def nav_for(app: Flask, pharmacy_id: int) -> list[NavEntry]:
    active = kernel_of(app).active_plugins(pharmacy_id)
    return [entry for entry in app.extensions.get("lgo.plugin_nav", []) if entry.plugin in active]
