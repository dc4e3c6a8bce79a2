"""The administrator's pages: modules, providers, settings, operations (the certificate, the pharmacy and the team
have their own modules)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from lgo.domain import audit
from lgo.domain.outbox import OutboxMessage, OutboxStatus, counts, retry_dead
from lgo.domain.pharmacy import Operator, Pharmacy
from lgo.errors import LgoError
from lgo.plugins import providers
from lgo.plugins.manifest import PluginState
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from lgo_web import settings_forms
from lgo_web.app import kernel_of
from lgo_web.auth import current_user
from lgo_web.health import service_health

log = logging.getLogger(__name__)

blueprint = Blueprint("admin", __name__)
#: The Ségur waves whose modules the modules page switches on at once.
WAVES = (1, 2)


class ActionForm(FlaskForm):
    """A button: nothing but the CSRF token and, sometimes, a target."""

    target = HiddenField()


class ProviderForm(FlaskForm):
    provider = SelectField(
        "Fournisseur", validators=[DataRequired("Choisissez un fournisseur.")], validate_choice=False
    )


def _kernel() -> Any:
    return kernel_of(current_app)


@blueprint.route("/")
def home() -> Response:
    from lgo_web.auth import current_user, landing

    return redirect(landing(current_user().role))


# --- modules -------------------------------------------------------------------------------------------


@blueprint.route("/modules")
def modules() -> str:
    user = current_user()
    kernel = _kernel()
    states = kernel.plugin_states(user.pharmacy_id)
    active = {i.name for i in states if i.state is PluginState.ACTIVE}
    rows = []
    for info in states:
        manifest = info.manifest
        requires = list(manifest.requires) if manifest else []
        loaded = bool((registered := kernel.registry.get(info.name)) and registered.loaded)
        rows.append(
            {
                "info": info,
                "label": manifest.label if manifest else info.name,
                "description": manifest.description_fr if manifest else "",
                "requires": requires,
                "missing": [r for r in requires if r not in active],
                "dependents": [d for d in (kernel.registry.dependents(info.name) if loaded else []) if d in active],
                "can_enable": loaded and info.state is not PluginState.ACTIVE,
                "can_disable": loaded and info.state in (PluginState.ACTIVE, PluginState.MISSING_DEPENDENCY),
                "third_party": not (manifest and manifest.from_project),
            }
        )
    waves = {wave: [r for r in rows if r["can_enable"] and _in_wave(r["info"], wave)] for wave in WAVES}
    return render_template("modules.html", rows=rows, form=ActionForm(), waves=waves)


@blueprint.route("/modules/<name>/activer", methods=["POST"])
def enable(name: str) -> Response:
    user = current_user()
    if ActionForm().validate_on_submit():
        try:
            switched = _kernel().enable(user.pharmacy_id, name, operator_id=user.operator_id, with_dependencies=True)
        except LgoError as exc:
            flash(exc.message_fr, "error")
        else:
            if switched:
                flash("Module(s) activé(s) : " + ", ".join(switched) + ".", "success")
            else:
                flash(f"« {name} » était déjà activé.", "info")
    return redirect(url_for("admin.modules"))


@blueprint.route("/modules/<name>/desactiver", methods=["POST"])
def disable(name: str) -> Response:
    user = current_user()
    if ActionForm().validate_on_submit():
        try:
            _kernel().disable(user.pharmacy_id, name, operator_id=user.operator_id)
        except LgoError as exc:
            flash(exc.message_fr, "error")
        else:
            flash(f"Module « {name} » désactivé (ses données sont conservées).", "success")
    return redirect(url_for("admin.modules"))


def _in_wave(info: Any, wave: int) -> bool:
    """The project's own Ségur modules of a wave (``Manifest.publisher``, decision 0905): never an example nor a
    vendor's module, which the pharmacy switches on one by one."""
    return info.wave == wave and info.manifest is not None and info.manifest.from_project


@blueprint.route("/modules/vague-<int:wave>/activer", methods=["POST"])
def enable_wave(wave: int) -> Response:
    """Switch on the project's modules of a Ségur wave (with what each requires)."""
    user = current_user()
    kernel = _kernel()
    if wave not in WAVES:
        abort(404)
    if ActionForm().validate_on_submit():
        switched: list[str] = []
        for info in kernel.registry.loaded():
            if _in_wave(info, wave) and not kernel.is_active(user.pharmacy_id, info.name):
                try:
                    switched += kernel.enable(
                        user.pharmacy_id, info.name, operator_id=user.operator_id, with_dependencies=True
                    )
                except LgoError as exc:
                    flash(exc.message_fr, "error")
        flash(
            f"Modules de la vague {wave} activés : "
            + (", ".join(sorted(set(switched))) or "aucun (déjà actifs)")
            + ".",
            "success",
        )
    return redirect(url_for("admin.modules"))


# --- providers -----------------------------------------------------------------------------------------


def _capabilities() -> list[tuple[str, str]]:
    """(capability, owning plugin) for every capability a loaded plugin declares providers for."""
    found = []
    for info in _kernel().registry.loaded():
        if info.manifest:
            found += [(capability, info.name) for capability in info.manifest.provider_capabilities]
    return sorted(found)


def _provider_label(capability: str, name: str) -> str:
    try:
        return str(getattr(providers.load(capability, name), "label", name))
    except LgoError:
        return f"{name} (ne se charge pas)"


@blueprint.route("/fournisseurs", methods=["GET", "POST"])
def providers_page() -> Any:
    user = current_user()
    kernel = _kernel()
    capabilities = _capabilities()
    if request.method == "POST":
        capability = request.form.get("capability", "")
        if capability not in {c for c, _ in capabilities}:
            abort(404)
        form = ProviderForm()
        if form.validate_on_submit():
            try:
                kernel.select_provider(user.pharmacy_id, capability, form.provider.data, operator_id=user.operator_id)
            except LgoError as exc:
                flash(exc.message_fr, "error")
            else:
                flash(f"Fournisseur « {form.provider.data} » choisi pour « {capability} ».", "success")
        else:
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
        return redirect(url_for("admin.providers_page"))
    sections = []
    for capability, plugin in capabilities:
        form = ProviderForm(formdata=None)
        names = providers.available(capability)
        form.provider.choices = settings_forms.select_choices((n, _provider_label(capability, n)) for n in names)
        selected = kernel.selected_provider(user.pharmacy_id, capability)
        form.provider.data = selected
        sections.append(
            {"capability": capability, "plugin": plugin, "form": form, "selected": selected, "names": names}
        )
    return render_template("providers.html", sections=sections)


# --- settings ------------------------------------------------------------------------------------------


@blueprint.route("/parametres")
def settings_index() -> str:
    kernel = _kernel()
    plugins = [i for i in kernel.registry.loaded() if i.manifest and i.manifest.settings is not None]
    return render_template("settings_index.html", plugins=plugins)


@blueprint.route("/parametres/<plugin>", methods=["GET", "POST"])
def settings(plugin: str) -> Any:
    user = current_user()
    kernel = _kernel()
    info = kernel.registry.get(plugin)
    if info is None or not info.loaded or info.manifest is None or info.manifest.settings is None:
        abort(404)
    model = info.manifest.settings
    try:
        current = kernel.plugin_settings(user.pharmacy_id, plugin)
    except LgoError as exc:
        flash(exc.message_fr, "error")
        current = model()
    form, specs = settings_forms.build_form(model, current, formdata=request.form if request.method == "POST" else None)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            values = settings_forms.submitted_values(form, specs, current)
            errors = settings_forms.validate(model, values)
            if not errors:
                try:
                    kernel.save_plugin_settings(user.pharmacy_id, plugin, values, operator_id=user.operator_id)
                except LgoError as exc:
                    flash(exc.message_fr, "error")
                else:
                    flash(f"Paramètres de « {info.manifest.label} » enregistrés.", "success")
                    return redirect(url_for("admin.settings", plugin=plugin))
        else:
            errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        flash("Certains paramètres sont invalides : corrigez les champs signalés.", "error")
        status = 400
    flags = {spec.name: settings_forms.flag_fields(form, spec) for spec in specs if spec.kind in ("flags", "multi")}
    return render_template(
        "settings.html",
        info=info,
        form=form,
        specs=specs,
        errors=errors,
        flags=flags,
        secret_help=settings_forms.SECRET_KEPT,
        test_mode=_test_mode(user.pharmacy_id),
    ), status


def _test_mode(pharmacy_id: int) -> bool:
    with _kernel().transaction() as db:
        pharmacy = db.get(Pharmacy, pharmacy_id)
        return bool(pharmacy and pharmacy.test_mode)


#: Who wrote an audit entry, in words (a plugin's name otherwise).
ORIGINS_FR = {"kernel": "LGO", "web": "page d'administration", "cli": "ligne de commande"}


# --- operations ----------------------------------------------------------------------------------------


@blueprint.route("/exploitation")
def operations() -> str:
    user = current_user()
    kernel = _kernel()
    with kernel.transaction() as db:
        summary = counts(db, user.pharmacy_id)
        waiting = list(
            db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.pharmacy_id == user.pharmacy_id, OutboxMessage.status != OutboxStatus.DELIVERED)
                .order_by(OutboxMessage.status, OutboxMessage.id.desc())
                .limit(100)
            )
        )
        entries = audit.recent(db, user.pharmacy_id, 50)
        health = service_health(db, user.pharmacy_id)
        operators = {
            o.id: o.display_name for o in db.scalars(select(Operator).where(Operator.pharmacy_id == user.pharmacy_id))
        }
        db.expunge_all()
    failures = [f for f in kernel.recent_failures(50) if f.pharmacy_id in (None, user.pharmacy_id)][:20]
    return render_template(
        "operations.html",
        summary=summary,
        waiting=waiting,
        entries=entries,
        health=health,
        failures=failures,
        operators=operators,
        origins=ORIGINS_FR,
        form=ActionForm(),
        Status=OutboxStatus,
    )


@blueprint.route("/exploitation/messages/<int:message_id>/relancer", methods=["POST"])
def retry(message_id: int) -> Response:
    user = current_user()
    if ActionForm().validate_on_submit():
        try:
            with _kernel().transaction() as db:
                message = retry_dead(db, user.pharmacy_id, message_id)
                audit.record(
                    db,
                    user.pharmacy_id,
                    "outbox.retry",
                    f"Message n° {message.id} remis en file.",
                    actor="web",
                    operator_id=user.operator_id,
                    object_type="outbox_message",
                    object_id=message.id,
                )
        except LgoError as exc:
            flash(exc.message_fr, "error")
        else:
            flash(f"Message n° {message_id} remis en file d'envoi.", "success")
    return redirect(url_for("admin.operations"))
