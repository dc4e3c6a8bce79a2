"""« Équipe »: the titulaire or an administrator creates, changes, disables and re-enables operators and gives
temporary passwords (the rules are the kernel's, :mod:`lgo.domain.team`); every operator chooses their own password
at the first sign-in after one (« Mot de passe »)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from lgo.domain import team
from lgo.domain.pharmacy import Operator, Role
from lgo.domain.scoped import get_scoped
from lgo.errors import LgoError
from lgo.plugins.registrations import HabilitationDefinition
from werkzeug.wrappers import Response
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from lgo_web.app import kernel_of
from lgo_web.auth import current_user
from lgo_web.settings_forms import select_choices

log = logging.getLogger(__name__)

blueprint = Blueprint("team", __name__)

ROLE_ORDER = (Role.TITULAIRE, Role.ADJOINT, Role.PREPARATEUR, Role.ADMINISTRATEUR)
#: Pages every signed-in operator reaches, even before replacing a temporary password.
_ALWAYS_ALLOWED = {"team.choose_password", "auth.logout", "static"}


def _role_choices() -> list[Any]:
    return select_choices((role.value, role.label_fr.capitalize()) for role in ROLE_ORDER)


class _Identity(FlaskForm):
    last_name = StringField("Nom de famille", validators=[DataRequired("Indiquez le nom."), Length(max=100)])
    first_name = StringField("Prénom", validators=[DataRequired("Indiquez le prénom."), Length(max=100)])
    role = SelectField("Rôle", validators=[DataRequired("Choisissez le rôle.")], validate_choice=False)
    rpps = StringField(
        "Numéro RPPS",
        validators=[Length(max=11, message="Le numéro RPPS compte 11 chiffres.")],
        description="11 chiffres ; obligatoire pour un pharmacien titulaire ou adjoint.",
    )


class NewOperatorForm(_Identity):
    code = StringField(
        "Code de connexion",
        validators=[DataRequired("Indiquez le code de connexion."), Length(max=32)],
        description="2 à 32 lettres sans accent, chiffres, « . », « - » ou « _ » ; l'opérateur le tape pour se "
        "connecter.",
    )


class OperatorForm(_Identity):
    habilitations = SelectMultipleField(
        "Habilitations",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )


class ActionForm(FlaskForm):
    """A button: the CSRF token only."""


class ChoosePasswordForm(FlaskForm):
    current = PasswordField("Mot de passe actuel (provisoire)", validators=[DataRequired("Indiquez-le.")])
    new = PasswordField(
        "Nouveau mot de passe",
        validators=[DataRequired("Choisissez un mot de passe.")],
        description="8 caractères au moins ; vous seul le connaîtrez.",
    )
    confirmation = PasswordField("Nouveau mot de passe, de nouveau", validators=[DataRequired("Retapez-le.")])


def install(app: Flask) -> None:
    """After sign-in (``auth.install``): an operator holding a temporary password chooses their own before anything
    else. Not for Pro Santé Connect: no password was used."""

    @app.before_request
    def temporary_password_first() -> Any:
        user = g.get("user")
        if user is None or user.auth_method != "password" or request.endpoint in _ALWAYS_ALLOWED:
            return None
        view = current_app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "lgo_public", False) or getattr(view, "lgo_any_role", False):
            return None
        with kernel_of(current_app).transaction() as db:
            operator = db.get(Operator, user.operator_id)
            if operator is None or not operator.must_change_password:
                return None
        return redirect(url_for("team.choose_password"))


@blueprint.before_request
def managers_only() -> None:
    if request.endpoint == "team.choose_password":
        return
    user = current_user()
    if not team.can_manage_team(user.role):
        log.warning("operator %s (%s) refused the team page %s", user.code, user.role, request.path)
        abort(403)


def _definitions() -> list[HabilitationDefinition]:
    return team.habilitation_definitions(kernel_of(current_app))


def _role(value: str | None) -> Role:
    try:
        return Role(value or "")
    except ValueError:
        abort(400)


@blueprint.route("/equipe")
def index() -> str:
    user = current_user()
    labels = {d.code: d.label_fr for d in _definitions()}
    with kernel_of(current_app).transaction() as db:
        rows = [
            {
                "operator": operator,
                "role": Role(operator.role).label_fr,
                "habilitations": sorted(labels.get(h.habilitation, h.habilitation) for h in operator.habilitations),
            }
            for operator in team.members(db, user.pharmacy_id)
        ]
        db.expunge_all()
    return render_template("team.html", rows=rows)


@blueprint.route("/equipe/nouveau", methods=["GET", "POST"])
def create() -> Any:
    user = current_user()
    form = NewOperatorForm()
    form.role.choices = _role_choices()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with kernel_of(current_app).transaction() as db:
                    operator, password = team.add_operator(
                        db,
                        user.pharmacy_id,
                        _definitions(),
                        code=form.code.data or "",
                        last_name=form.last_name.data or "",
                        first_name=form.first_name.data or "",
                        role=_role(form.role.data),
                        rpps=form.rpps.data,
                        by=user.operator_id,
                    )
                    shown = {"name": operator.display_name, "code": operator.code, "id": operator.id}
            except LgoError as exc:
                flash(exc.message_fr, "error")
                status = 400
            else:
                return render_template("team_password.html", shown=shown, password=password, created=True)
        else:
            flash("Certains champs sont invalides : corrigez les champs signalés.", "error")
            status = 400
    return render_template("team_new.html", form=form), status


@blueprint.route("/equipe/<operator_id>", methods=["GET", "POST"])
def edit(operator_id: str) -> Any:
    user = current_user()
    definitions = _definitions()
    kernel = kernel_of(current_app)
    with kernel.transaction() as db:
        operator = _operator(db, operator_id, user.pharmacy_id)
        db.expunge(operator)
        current = sorted(h.habilitation for h in operator.habilitations)
    declared = {d.code for d in definitions}
    form = OperatorForm(
        data={
            "last_name": operator.last_name,
            "first_name": operator.first_name,
            "role": Role(operator.role).value,
            "rpps": operator.rpps or "",
            "habilitations": current,
        }
        if request.method == "GET"
        else None
    )
    form.role.choices = _role_choices()
    form.habilitations.choices = select_choices((d.code, d.label_fr) for d in definitions)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with kernel.transaction() as db:
                    team.update_operator(
                        db,
                        user.pharmacy_id,
                        operator.id,
                        definitions,
                        last_name=form.last_name.data or "",
                        first_name=form.first_name.data or "",
                        role=_role(form.role.data),
                        rpps=form.rpps.data,
                        habilitations=[c for c in form.habilitations.data or [] if c in declared],
                        by=user.operator_id,
                    )
            except LgoError as exc:
                flash(exc.message_fr, "error")
                status = 400
            else:
                flash(f"Opérateur modifié : {form.first_name.data} {form.last_name.data}.", "success")
                return redirect(url_for("team.edit", operator_id=operator.id))
        else:
            flash("Certains champs sont invalides : corrigez les champs signalés.", "error")
            status = 400
    helps = {d.code: d.help_fr for d in definitions}
    return render_template(
        "team_edit.html", form=form, operator=operator, helps=helps, actions=ActionForm(), me=user.operator_id
    ), status


def _operator(db: Any, operator_id: object, pharmacy_id: int) -> Operator:
    try:
        return get_scoped(db, Operator, operator_id, pharmacy_id, "opérateur")
    except LgoError:
        abort(404)


def _switch(operator_id: str, active: bool) -> Response:
    user = current_user()
    if ActionForm().validate_on_submit():
        try:
            with kernel_of(current_app).transaction() as db:
                operator = team.set_active(db, user.pharmacy_id, operator_id, active, by=user.operator_id)
                name = operator.display_name
        except LgoError as exc:
            flash(exc.message_fr, "error")
        else:
            flash(
                f"{name} est réactivé : il peut de nouveau se connecter."
                if active
                else f"{name} est désactivé : il ne peut plus se connecter (son historique est conservé).",
                "success",
            )
    return redirect(url_for("team.edit", operator_id=operator_id))


@blueprint.route("/equipe/<operator_id>/desactiver", methods=["POST"])
def disable(operator_id: str) -> Response:
    return _switch(operator_id, False)


@blueprint.route("/equipe/<operator_id>/reactiver", methods=["POST"])
def enable(operator_id: str) -> Response:
    return _switch(operator_id, True)


@blueprint.route("/equipe/<operator_id>/mot-de-passe", methods=["POST"])
def reset_password(operator_id: str) -> Any:
    user = current_user()
    if not ActionForm().validate_on_submit():
        flash("Formulaire expiré : recommencez.", "error")
        return redirect(url_for("team.edit", operator_id=operator_id))
    try:
        with kernel_of(current_app).transaction() as db:
            operator, password = team.reset_password(db, user.pharmacy_id, operator_id, by=user.operator_id)
            shown = {"name": operator.display_name, "code": operator.code, "id": operator.id}
    except LgoError as exc:
        flash(exc.message_fr, "error")
        return redirect(url_for("team.index"))
    return render_template("team_password.html", shown=shown, password=password, created=False)


@blueprint.route("/mot-de-passe", methods=["GET", "POST"])
def choose_password() -> Any:
    user = current_user()
    form = ChoosePasswordForm()
    kernel = kernel_of(current_app)
    with kernel.transaction() as db:
        required = bool((found := db.get(Operator, user.operator_id)) and found.must_change_password)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with kernel.transaction() as db:
                    operator = db.get(Operator, user.operator_id)
                    assert operator is not None
                    team.choose_password(
                        db, operator, form.current.data or "", form.new.data or "", form.confirmation.data or ""
                    )
            except LgoError as exc:
                flash(exc.message_fr, "error")
                status = 400
            else:
                flash("Votre mot de passe est enregistré.", "success")
                return redirect(url_for("admin.home"))
        else:
            status = 400
    return render_template("password.html", form=form, required=required, psc=g.user.auth_method != "password"), status


choose_password.lgo_any_role = True  # type: ignore[attr-defined]
