"""« Certificat »: the pharmacy's certificate, uploaded once as PKCS#12 and used by every national service (INSi,
DMP, ApCV, MSSanté organisational mailbox, ordonnance numérique), plus one per use a plugin declares for a service
that needs a different one (decisions 0901, 0903, 0904).

The page says who the certificate names and who issued it in words. A certificate with warnings (self-signed, not
from the IGC-Santé, another FINESS, test certificate in production...) is stored only after the administrator saw
them and confirmed: the upload is kept meanwhile in the confirmation form itself, encrypted with the server's key
(:mod:`lgo.secrets`) and valid for ten minutes, so that nothing is written before the confirmation and the file need
not be chosen again.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from flask_wtf.file import FileField  # type: ignore[import-untyped]
from lgo import secrets
from lgo.domain import certificates
from lgo.domain.pharmacy import Operator, Pharmacy
from lgo.errors import LgoError
from lgo.local_time import datetime_fr
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, PasswordField, SelectField

from lgo_web.app import kernel_of, signed_in_context
from lgo_web.auth import current_user
from lgo_web.settings_forms import select_choices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

blueprint = Blueprint("certificate", __name__)

#: How long a certificate waiting for confirmation stays in its form.
PENDING_SECONDS = 600


class UploadForm(FlaskForm):
    usage = SelectField("Usage", validate_choice=False)
    file = FileField("Fichier PKCS#12 (.p12, .pfx)")
    passphrase = PasswordField("Mot de passe du fichier")


class ConfirmForm(FlaskForm):
    pending = HiddenField()
    accept = BooleanField("J'ai lu ces avertissements et j'enregistre ce certificat quand même")


@blueprint.app_context_processor
def certificate_banner() -> dict[str, Any]:
    """``certificate_expiry`` for the banner of every page."""

    def expiry(db: Session, pharmacy_id: int) -> dict[str, Any]:
        stored = certificates.get(db, pharmacy_id)
        return {"certificate_expiry": stored.expiry() if stored else None}

    return signed_in_context("certificate banner", expiry)


def _usages() -> list[tuple[str, str, str]]:
    """(kind, label, help) of every slot of the page: the organisation certificate first."""
    slots = [
        (
            certificates.ORGANISATION,
            "Certificat de l'officine (tous les services)",
            "Le certificat d'organisation de l'officine, délivré par l'IGC-Santé : INSi, DMP, MSSanté, ApCV, "
            "ordonnance numérique.",
        )
    ]
    slots += [(u.kind, u.label_fr, u.help_fr) for u in kernel_of(current_app).certificate_usages()]
    return slots


def _pharmacy(pharmacy_id: int) -> Pharmacy:
    with kernel_of(current_app).transaction() as db:
        pharmacy = db.get(Pharmacy, pharmacy_id)
        assert pharmacy is not None
        db.expunge(pharmacy)
        return pharmacy


def _shown(pharmacy: Pharmacy) -> list[dict[str, Any]]:
    """The stored certificates, in words, with what is wrong with them for this pharmacy today."""
    found: list[dict[str, Any]] = []
    with kernel_of(current_app).transaction() as db:
        for kind, label, _help in _usages():
            stored = certificates.get(db, pharmacy.id, kind)
            if stored is None:
                found.append({"kind": kind, "label": label, "stored": None})
                continue
            uploader = db.get(Operator, stored.uploaded_by) if stored.uploaded_by else None
            checked = certificates.review(
                stored.subject, stored.issuer, pharmacy_finess=pharmacy.finess, test_mode=pharmacy.test_mode
            )
            found.append(
                {
                    "kind": kind,
                    "label": label,
                    "stored": {
                        "review": checked,
                        "serial": stored.serial_number,
                        "expiry": stored.expiry(),
                        "uploaded_at": datetime_fr(stored.uploaded_at),
                        "uploaded_by": uploader.display_name if uploader else "—",
                    },
                }
            )
    return found


def _page(form: UploadForm, pharmacy: Pharmacy, status: int = 200, confirm: dict[str, Any] | None = None) -> Any:
    return render_template(
        "certificate.html", form=form, certificates=_shown(pharmacy), confirm=confirm, usages=_usages()
    ), status


@blueprint.route("/certificat", methods=["GET", "POST"])
def page() -> Any:
    user = current_user()
    pharmacy = _pharmacy(user.pharmacy_id)
    form = UploadForm()
    usages = {kind: label for kind, label, _help in _usages()}
    form.usage.choices = select_choices(usages.items())
    if request.method != "POST":
        return _page(form, pharmacy)
    if not form.validate_on_submit():
        flash("Formulaire expiré ou invalide : rechargez la page puis recommencez.", "error")
        return _page(form, pharmacy, 400)
    kind = form.usage.data or certificates.ORGANISATION
    upload = form.file.data
    if kind not in usages:
        flash("Usage inconnu : choisissez dans la liste.", "error")
        return _page(form, pharmacy, 400)
    if upload is None or not getattr(upload, "filename", ""):
        flash("Choisissez le fichier du certificat.", "error")
        return _page(form, pharmacy, 400)
    data, passphrase = upload.read(), form.passphrase.data or ""
    outcome = _store(user.pharmacy_id, user.operator_id, kind, data, passphrase, accept=False)
    if isinstance(outcome, certificates.CertificateReview):
        confirm = ConfirmForm(formdata=None)
        confirm.pending.data = _pending(user.pharmacy_id, user.operator_id, kind, data, passphrase)
        return _page(form, pharmacy, 200, {"form": confirm, "review": outcome, "label": usages[kind]})
    if outcome is None:
        return _page(form, pharmacy, 400)
    return outcome


@blueprint.route("/certificat/confirmer", methods=["POST"])
def confirm() -> Any:
    user = current_user()
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("Formulaire expiré ou invalide : déposez de nouveau le certificat.", "error")
        return redirect(url_for("certificate.page"))
    pending = _read_pending(form.pending.data or "", user.pharmacy_id, user.operator_id)
    if pending is None:
        flash("La confirmation a expiré (10 minutes) : déposez de nouveau le certificat.", "error")
        return redirect(url_for("certificate.page"))
    kind, data, passphrase = pending
    if not form.accept.data:
        flash("Cochez la case pour confirmer avoir lu les avertissements, ou déposez un autre certificat.", "error")
        return redirect(url_for("certificate.page"))
    outcome = _store(user.pharmacy_id, user.operator_id, kind, data, passphrase, accept=True)
    if isinstance(outcome, Response):
        return outcome
    return redirect(url_for("certificate.page"))


def _store(
    pharmacy_id: int, operator_id: int, kind: str, data: bytes, passphrase: str, *, accept: bool
) -> Response | certificates.CertificateReview | None:
    """Stored: a redirect with the certificate in words; warnings to confirm: the review; refused: None (flashed)."""
    try:
        with kernel_of(current_app).transaction() as db:
            saved = certificates.store(
                db, pharmacy_id, data, passphrase, kind=kind, operator_id=operator_id, accept_warnings=accept
            )
            holder = certificates.review(saved.subject, saved.issuer, pharmacy_finess=None, test_mode=False).holder_fr
            text = f"{holder} — {saved.expiry().text_fr}"
    except certificates.CertificateNeedsConfirmation as exc:
        return exc.review
    except LgoError as exc:
        flash(exc.message_fr, "error")
        return None
    flash(f"Certificat enregistré : {text}.", "success")
    return redirect(url_for("certificate.page"))


def _pending(pharmacy_id: int, operator_id: int, kind: str, data: bytes, passphrase: str) -> str:
    payload = {
        "pharmacy": pharmacy_id,
        "operator": operator_id,
        "kind": kind,
        "at": time.time(),
        "data": base64.b64encode(data).decode(),
        "passphrase": passphrase,
    }
    return secrets.encrypt(json.dumps(payload))


def _read_pending(token: str, pharmacy_id: int, operator_id: int) -> tuple[str, bytes, str] | None:
    try:
        payload = json.loads(secrets.decrypt(token))
    except (LgoError, ValueError):
        log.warning("certificate confirmation refused: unreadable token")
        return None
    if payload.get("pharmacy") != pharmacy_id or payload.get("operator") != operator_id:
        log.warning("certificate confirmation refused: token of another session")
        return None
    if time.time() - float(payload.get("at", 0)) > PENDING_SECONDS:
        return None
    return str(payload["kind"]), base64.b64decode(payload["data"]), str(payload["passphrase"])
