"""Plugins' own admin pages: the blueprints returned by ``lgo_register_web_blueprints`` are mounted under
``/plugins/<plugin>/``, reachable only while the plugin is active in the pharmacy, behind the same sign-in, CSRF
protection and read-only rule for roles that cannot change settings. A blueprint with an ``index`` view gets a
link in the navigation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, request
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
    for result in kernel.register("lgo_register_web_blueprints"):
        for blueprint in result.value or []:
            if not isinstance(blueprint, Blueprint):
                log.error("plugin %s returned %r as a web blueprint: ignored", result.plugin, blueprint)
                continue
            if blueprint.name in app.blueprints:
                log.error("blueprint %s of plugin %s: name already taken, ignored", blueprint.name, result.plugin)
                continue
            try:
                app.register_blueprint(blueprint, url_prefix=f"/plugins/{result.plugin}")
            except Exception:  # a broken blueprint must not take the whole page down
                log.exception("blueprint %s of plugin %s could not be registered", blueprint.name, result.plugin)
                continue
            owners[blueprint.name] = result.plugin
            if f"{blueprint.name}.index" in app.view_functions:
                manifest = kernel.registry.manifest(result.plugin)
                nav.append(NavEntry(result.plugin, manifest.label, f"{blueprint.name}.index"))
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
