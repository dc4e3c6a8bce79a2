"""« Officine »: the pharmacy's identity and its mode, test or production, and the banner every page shows in test
mode (national test platforms, INSi test identities accepted — never real patients' data)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from lgo.domain import audit
from lgo.domain.pharmacy import Pharmacy
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from lgo_web.app import kernel_of, signed_in_context
from lgo_web.auth import current_user
from lgo_web.settings_forms import select_choices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


blueprint = Blueprint("pharmacy", __name__)

MODES = (("test", "Mode test : plateformes nationales de test"), ("production", "Production"))


class PharmacyForm(FlaskForm):
    name = StringField(
        "Nom de l'officine", validators=[DataRequired("Indiquez le nom de l'officine."), Length(max=200)]
    )
    address = StringField("Adresse", validators=[Length(max=300)])
    postal_code = StringField(
        "Code postal",
        validators=[Optional(), Regexp(r"^[0-9]{5}$", message="Le code postal compte 5 chiffres.")],
    )
    city = StringField("Commune", validators=[Length(max=100)])
    mode = RadioField(
        "Mode de fonctionnement",
        choices=select_choices(MODES),
        validators=[DataRequired("Choisissez le mode test ou la production.")],
        description="En mode test, chaque page l'indique, les services nationaux sont ceux de test et les "
        "identités de test de l'INSi sont acceptées. Passez en production avec les adresses et le certificat de "
        "production.",
    )


@blueprint.app_context_processor
def test_mode_banner() -> dict[str, Any]:
    """``pharmacy_test_mode`` for the banner of every page."""

    def mode(db: Session, pharmacy_id: int) -> dict[str, Any]:
        pharmacy = db.get(Pharmacy, pharmacy_id)
        return {"pharmacy_test_mode": bool(pharmacy and pharmacy.test_mode)}

    return signed_in_context("pharmacy mode", mode)


@blueprint.route("/officine", methods=["GET", "POST"])
def page() -> Any:
    user = current_user()
    kernel = kernel_of(current_app)
    with kernel.transaction() as db:
        pharmacy = db.get(Pharmacy, user.pharmacy_id)
        assert pharmacy is not None
        db.expunge(pharmacy)
    form = PharmacyForm(
        data={
            "name": pharmacy.name,
            "address": pharmacy.address,
            "postal_code": pharmacy.postal_code,
            "city": pharmacy.city,
            "mode": "test" if pharmacy.test_mode else "production",
        }
        if request.method == "GET"
        else None
    )
    if request.method == "POST":
        if form.validate_on_submit():
            _save(user.pharmacy_id, user.operator_id, form)
            return redirect(url_for("pharmacy.page"))
        flash("Certains champs sont invalides : corrigez les champs signalés.", "error")
        return render_template("pharmacy.html", form=form, pharmacy=pharmacy), 400
    return render_template("pharmacy.html", form=form, pharmacy=pharmacy)


def _save(pharmacy_id: int, operator_id: int, form: PharmacyForm) -> None:
    kernel = kernel_of(current_app)
    test_mode = form.mode.data == "test"
    with kernel.transaction() as db:
        pharmacy = db.get(Pharmacy, pharmacy_id)
        assert pharmacy is not None
        changed = []
        for field, value in (
            ("name", (form.name.data or "").strip()),
            ("address", (form.address.data or "").strip()),
            ("postal_code", (form.postal_code.data or "").strip()),
            ("city", (form.city.data or "").strip()),
        ):
            if getattr(pharmacy, field) != value:
                setattr(pharmacy, field, value)
                changed.append(form[field].label.text.lower())
        if changed:
            audit.record(
                db,
                pharmacy_id,
                "pharmacy.updated",
                "Coordonnées de l'officine modifiées : " + ", ".join(changed) + ".",
                actor="web",
                operator_id=operator_id,
                object_type="pharmacy",
                object_id=pharmacy_id,
            )
        if pharmacy.test_mode != test_mode:
            pharmacy.test_mode = test_mode
            audit.record(
                db,
                pharmacy_id,
                "pharmacy.mode",
                f"Officine passée en {'mode test' if test_mode else 'production'}.",
                actor="web",
                operator_id=operator_id,
                object_type="pharmacy",
                object_id=pharmacy_id,
            )
            changed.append("mode")
    if "mode" in changed:
        flash(
            "L'officine est en mode test : les services nationaux de test sont attendus dans les paramètres."
            if test_mode
            else "L'officine est en production : vérifiez les adresses des services et le certificat de production.",
            "success",
        )
    elif changed:
        flash("Coordonnées de l'officine enregistrées.", "success")
    else:
        flash("Aucun changement.", "info")
