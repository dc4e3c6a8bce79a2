"""Sign-in (operator code + password, or a method a plugin offers, such as Pro Santé Connect), session lifetime
and who may change what: titulaire and administrateur change settings, the other roles read.

A session is a signed cookie; what the server remembers is which sessions were closed: a request that ends a
signed-in session (sign-out, a new sign-in, a session the server or a plugin cleared) writes ``web.logout`` to the
audit log for that sign-in (operator, time of sign-in), and a cookie of a closed sign-in is refused afterwards even
if it was copied before (decision 0900)."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from lgo.db import utcnow
from lgo.domain.audit import AuditEntry
from lgo.domain.pharmacy import Operator, Pharmacy, Role, authenticate, get_pharmacy
from lgo.errors import LgoError
from lgo.plugins.registrations import SignInMethod
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from lgo_web import session_keys, throttle
from lgo_web.app import ABSOLUTE_LIFETIME, error_page, kernel_of

log = logging.getLogger(__name__)

EDITOR_ROLES = (Role.TITULAIRE, Role.ADMINISTRATEUR)
#: Audit action of a closed session; ``object_id`` is :func:`session_key`.
LOGOUT = "web.logout"
#: Endpoints reachable without signing in (plugin views opt in with the attribute ``lgo_public = True``).
PUBLIC_ENDPOINTS = {"static", "auth.login"}

blueprint = Blueprint("auth", __name__)


@dataclass(frozen=True)
class SignedIn:
    operator_id: int
    pharmacy_id: int
    code: str
    name: str
    role: Role
    auth_method: str

    @property
    def can_edit(self) -> bool:
        return self.role in EDITOR_ROLES


class LoginForm(FlaskForm):
    code = StringField("Code opérateur", validators=[DataRequired("Indiquez votre code."), Length(max=32)])
    password = PasswordField("Mot de passe", validators=[DataRequired("Indiquez votre mot de passe.")])


def pharmacy() -> Pharmacy:
    kernel = kernel_of(current_app)
    with kernel.transaction() as db:
        found = get_pharmacy(db, current_app.config.get("LGO_PHARMACY"))
        db.expunge(found)
        return found


def sign_in_methods(pharmacy_id: int) -> list[SignInMethod]:
    """The other sign-in methods of the plugins active in the pharmacy whose views are mounted."""
    views = current_app.view_functions
    return [m for m in kernel_of(current_app).sign_in_methods(pharmacy_id) if m.endpoint in views]


def client_address() -> str:
    # The direct peer: a forwarded header is only trusted behind a proxy the deployment configures (ProxyFix).
    return request.remote_addr or "?"


@blueprint.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    try:
        current = pharmacy()
    except LgoError as exc:
        return error_page(503, exc.message_fr)
    form = LoginForm()
    if form.validate_on_submit():
        code = (form.code.data or "").strip()
        address = client_address()
        kernel = kernel_of(current_app)
        with kernel.transaction() as db:
            verdict = throttle.check(db, current.id, code, address)
            if not verdict.allowed:
                flash(f"Trop de tentatives manquées pour ce code : réessayez dans {verdict.wait_text_fr}.", "error")
                return render_template(
                    "login.html", form=form, methods=sign_in_methods(current.id), pharmacy=current
                ), 429
            operator = authenticate(db, current.id, code, form.password.data or "")
            throttle.record(
                db,
                current.id,
                code,
                address,
                success=operator is not None,
                operator_id=operator.id if operator else None,
            )
            if operator is not None:
                role = Role(operator.role)
                start_session(operator.id, current.id, "password")
                return redirect(_after_sign_in(role))
        flash("Code ou mot de passe incorrect.", "error")
        return render_template("login.html", form=form, methods=sign_in_methods(current.id), pharmacy=current), 401
    return render_template("login.html", form=form, methods=sign_in_methods(current.id), pharmacy=current)


_RESUME = re.compile(r"^/comptoir/f/\d{1,10}$")


def _after_sign_in(role: Role) -> str:
    """Where an operator lands: back to the billing an expired session interrupted, else the counter for every
    role but the administrator (the admin pages)."""
    wanted = request.args.get("next", "")
    if _RESUME.match(wanted):
        return wanted
    return url_for("admin.modules") if role == Role.ADMINISTRATEUR else url_for("counter.home")


def landing(role: Role) -> str:
    """The page ``/`` leads to: the counter, or the admin pages for the administrator (used after a plugin's
    sign-in method too, which redirects to ``/``)."""
    return url_for("admin.modules") if role == Role.ADMINISTRATEUR else url_for("counter.home")


@blueprint.route("/deconnexion", methods=["POST"])
def logout() -> Response:
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))


def start_session(operator_id: int, pharmacy_id: int, method: str) -> None:
    """What the password sign-in does, and what a plugin's sign-in method does by setting the same keys."""
    session.clear()  # a new session on sign-in: nothing from before carries over (fixation)
    session.permanent = True
    session[session_keys.OPERATOR_ID] = operator_id
    session[session_keys.PHARMACY_ID] = pharmacy_id
    session[session_keys.AUTH_METHOD] = method
    session[session_keys.SIGNED_IN_AT] = time.time()


def session_key() -> tuple[int, str] | None:
    """(pharmacy, "operator:time of sign-in") of the signed-in session in the cookie, or None."""
    operator_id = session.get(session_keys.OPERATOR_ID)
    pharmacy_id = session.get(session_keys.PHARMACY_ID)
    signed_in_at = session.get(session_keys.SIGNED_IN_AT)
    if not (isinstance(operator_id, int) and isinstance(pharmacy_id, int) and isinstance(signed_in_at, int | float)):
        return None
    return pharmacy_id, f"{operator_id}:{float(signed_in_at)!r}"[:64]


def _closed(db: Any, pharmacy_id: int, key: str) -> bool:
    # Only the sign-ins of the last ABSOLUTE_LIFETIME can still be presented: the index on ``at`` bounds the search.
    return (
        db.scalar(
            select(AuditEntry.id)
            .where(
                AuditEntry.pharmacy_id == pharmacy_id,
                AuditEntry.action == LOGOUT,
                AuditEntry.at >= utcnow() - ABSOLUTE_LIFETIME,
                AuditEntry.object_id == key,
            )
            .limit(1)
        )
        is not None
    )


def _close(pharmacy_id: int, key: str) -> None:
    operator_id = int(key.split(":", 1)[0])
    with kernel_of(current_app).transaction() as db:
        operator = db.get(Operator, operator_id)
        db.add(
            AuditEntry(
                pharmacy_id=pharmacy_id,
                action=LOGOUT,
                message_fr="Fin de session de la page d'administration"
                + (f" ({operator.code})." if operator is not None else "."),
                actor="web",
                operator_id=operator.id if operator is not None and operator.pharmacy_id == pharmacy_id else None,
                object_type="web_session",
                object_id=key,
                details={},
            )
        )


def _signed_in() -> SignedIn | None:
    found = session_key()
    if found is None:
        return None
    operator_id = int(session[session_keys.OPERATOR_ID])
    pharmacy_id, key = found
    if time.time() - float(session[session_keys.SIGNED_IN_AT]) > ABSOLUTE_LIFETIME.total_seconds():
        session.clear()
        flash("Votre session a expiré : reconnectez-vous.", "info")
        return None
    with kernel_of(current_app).transaction() as db:
        operator = db.get(Operator, operator_id)
        if operator is None or not operator.active or operator.pharmacy_id != pharmacy_id:
            session.clear()
            return None
        if _closed(db, pharmacy_id, key):
            log.warning("closed session of operator %s presented again (cookie replayed)", operator_id)
            session.clear()
            return None
        session.permanent = True
        return SignedIn(
            operator.id,
            pharmacy_id,
            operator.code,
            operator.display_name,
            Role(operator.role),
            str(session.get(session_keys.AUTH_METHOD, "password")),
        )


def _is_public(endpoint: str | None) -> bool:
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, "lgo_public", False))


def _any_role(endpoint: str | None) -> bool:
    """Sign-out and the like: every role may post them (plugin views opt in with ``lgo_any_role = True``)."""
    if endpoint == "auth.logout":
        return True
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, "lgo_any_role", False) or getattr(view, "lgo_counter", False))


def install(app: Flask) -> None:
    @app.before_request
    def require_sign_in() -> Any:
        g.user = _signed_in()
        g.session_key = session_key() if g.user is not None else None
        if _is_public(request.endpoint):
            return None
        if g.user is None:
            resume = _resume_after_sign_in()
            return redirect(url_for("auth.login", next=resume) if resume else url_for("auth.login"))
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        if writes and not _any_role(request.endpoint) and not g.user.can_edit:
            log.warning("operator %s (%s) refused %s %s", g.user.code, g.user.role, request.method, request.path)
            abort(403)
        return None

    @app.after_request
    def close_ended_session(response: Response) -> Response:
        """A signed-in session this request ended (sign-out, new sign-in, cleared by the server or a plugin) is
        closed on the server too: its cookie is refused from now on, even replayed."""
        started: tuple[int, str] | None = g.get("session_key")
        if started is not None and session_key() != started:
            _close(*started)
        return response

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        from lgo_web.plugin_pages import nav_for

        user = g.get("user")
        try:
            nav = nav_for(app, user.pharmacy_id) if user else []
        except Exception:  # the error page must render even when the database is what failed
            log.exception("plugin navigation unavailable")
            nav = []
        try:
            logout = _logout_endpoint(app, user)
        except Exception:  # same: a broken database must not hide the error page
            logout = "auth.logout"
        return {
            "user": user,
            "nav_plugins": nav,
            "logout_endpoint": logout,
            "view_functions": app.view_functions,
        }


def _resume_after_sign_in() -> str | None:
    """A counter page interrupted by the end of the session comes back after sign-in (the draft is in the
    database: nothing typed before the last page is lost)."""
    match = re.match(r"^(/comptoir/f/\d{1,10})", request.path)
    if match is None:
        return None
    if request.method != "GET":
        flash(
            "Votre session a expiré : reconnectez-vous. La facturation en cours est conservée ; refaites votre "
            "dernière saisie.",
            "info",
        )
    return match.group(1)


def _logout_endpoint(app: Flask, user: SignedIn | None) -> str:
    """An operator signed in with a plugin's method signs out there too (e.g. of Pro Santé Connect)."""
    if user is not None and user.auth_method != "password":
        for method in kernel_of(app).sign_in_methods(user.pharmacy_id):
            if method.auth_method == user.auth_method and method.logout_endpoint in app.view_functions:
                return method.logout_endpoint
    return "auth.logout"


def current_user() -> SignedIn:
    user: SignedIn | None = g.get("user")
    if user is None:
        abort(401)
    return user
