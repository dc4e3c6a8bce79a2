"""The MSSanté page of the administrator's site (mounted by lgo-web under ``/plugins/mssante/``): the mailboxes and
who may use the organisational one, every message with its state, the quarantine with its reasons, and a button
to fetch the mailboxes now. Declaring the organisational mailbox or a pharmacist's nominative one (Mailiz, with the
personal certificate uploaded as PKCS#12) and giving habilitations are POST forms, which lgo-web keeps to the roles
that may edit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from lgo.api import LgoError, Operator, parse_id, web_kernel
from sqlalchemy import select
from werkzeug.wrappers import Response

from lgo_mssante import accounts, service
from lgo_mssante.model import Habilitation, MssAccount, MssHabilitation, MssMessage


def _pharmacy_id() -> int:
    return int(session["pharmacy_id"])


def _operator_id() -> int | None:
    value = session.get("operator_id")
    return value if isinstance(value, int) else None


def blueprint() -> Blueprint:
    bp = Blueprint("mssante", __name__, template_folder="templates")

    @bp.route("/")
    def index() -> Any:
        kernel, pharmacy_id = web_kernel(), _pharmacy_id()
        with kernel.transaction() as db:
            team = list(
                db.scalars(select(Operator).where(Operator.pharmacy_id == pharmacy_id).order_by(Operator.last_name))
            )
            operators = {o.id: o.display_name for o in team}
            pharmacists = [(o.id, o.display_name) for o in team if o.rpps]
            boxes = [
                (a.id, a.address, a.kind.value, operators.get(a.operator_id or -1, "l'officine"))
                for a in db.scalars(
                    select(MssAccount).where(MssAccount.pharmacy_id == pharmacy_id).order_by(MssAccount.id)
                )
            ]
            rights = [
                (h.account_id, operators.get(h.operator_id, "?"), h.habilitation.value)
                for h in db.scalars(
                    select(MssHabilitation)
                    .where(MssHabilitation.pharmacy_id == pharmacy_id)
                    .order_by(MssHabilitation.account_id, MssHabilitation.operator_id)
                )
            ]
            messages = list(
                db.scalars(
                    select(MssMessage)
                    .where(MssMessage.pharmacy_id == pharmacy_id)
                    .order_by(MssMessage.id.desc())
                    .limit(200)
                )
            )
            rows = [
                (
                    m.created_at.astimezone(service.PARIS),
                    m.direction.value,
                    m.peer,
                    m.subject,
                    m.status_fr,
                    m.status.value,
                )
                for m in messages
            ]
        provider = kernel.selected_provider(pharmacy_id, accounts.CAPABILITY)
        return render_template(
            "mssante/index.html",
            boxes=boxes,
            rights=rights,
            messages=rows,
            provider=provider,
            operators=operators,
            pharmacists=pharmacists,
            roles=[h.value for h in Habilitation],
        )

    @bp.route("/relever", methods=["POST"])
    def fetch() -> Response:
        try:
            for line in service.receive(web_kernel(), _pharmacy_id()).lines_fr():
                flash(line, "info")
        except LgoError as exc:
            flash(exc.message_fr, "error")
        return redirect(url_for("mssante.index"))

    @bp.route("/boites", methods=["POST"])
    def add_box() -> Response:
        address = request.form.get("address", "").strip()
        password = request.form.get("password", "")
        if not address or not password:
            flash("Indiquez l'adresse et le mot de passe de la boîte organisationnelle.", "error")
            return redirect(url_for("mssante.index"))
        try:
            accounts.add_organisational(
                web_kernel(),
                _pharmacy_id(),
                address=address,
                login=request.form.get("login", "").strip() or address,
                password=password,
                operator_id=_operator_id(),
            )
            flash(f"Boîte organisationnelle {address} enregistrée : attribuez les habilitations.", "info")
        except LgoError as exc:
            flash(exc.message_fr, "error")
        return redirect(url_for("mssante.index"))

    @bp.route("/boites-nominatives", methods=["POST"])
    def add_personal_box() -> Response:
        address = request.form.get("address", "").strip()
        password = request.form.get("password", "")
        upload = request.files.get("certificate")
        if not address or not password or upload is None or not upload.filename:
            flash(
                "Indiquez le pharmacien, l'adresse, le mot de passe de la boîte et son certificat personnel.", "error"
            )
            return redirect(url_for("mssante.index"))
        try:
            account = accounts.add_personal(
                web_kernel(),
                _pharmacy_id(),
                operator_id=parse_id(request.form.get("operator_id"), "opérateur"),
                address=address,
                login=address,
                password=password,
                pkcs12=upload.read(),
                passphrase=request.form.get("passphrase", ""),
                by_operator_id=_operator_id(),
            )
            flash(f"Boîte nominative {address} enregistrée (n° {account}).", "info")
        except LgoError as exc:
            flash(exc.message_fr, "error")
        return redirect(url_for("mssante.index"))

    @bp.route("/habilitations", methods=["POST"])
    def grant() -> Response:
        try:
            accounts.set_habilitation(
                web_kernel(),
                _pharmacy_id(),
                parse_id(request.form.get("account_id"), "boîte MSSanté"),
                parse_id(request.form.get("operator_id"), "opérateur"),
                request.form.get("habilitation", ""),
                by_operator_id=_operator_id(),
            )
            flash("Habilitation enregistrée.", "info")
        except LgoError as exc:
            flash(exc.message_fr, "error")
        return redirect(url_for("mssante.index"))

    return bp
