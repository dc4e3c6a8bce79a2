"""The Flask application: security settings, error pages, plugin blueprints."""

from __future__ import annotations

import logging
import os
import secrets as token_secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
from lgo.config import create_private_file, data_dir, private_file
from lgo.errors import LgoError
from lgo.kernel import Kernel
from lgo.local_time import date_fr, datetime_fr
from lgo.plugins.web import KERNEL_EXTENSION
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: A session unused this long is over (the signed cookie carries its date: checked on the server).
IDLE_LIFETIME = timedelta(minutes=30)
#: However active, an operator signs in again after this.
ABSOLUTE_LIFETIME = timedelta(hours=10)

ERROR_TEXTS_FR = {
    400: ("Demande incorrecte", "La demande n'a pas pu être comprise."),
    403: ("Accès refusé", "Votre rôle ne permet pas cette action."),
    404: ("Page introuvable", "Cette page n'existe pas (ou ce module n'est pas actif dans l'officine)."),
    405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
    413: ("Fichier trop volumineux", "Le fichier envoyé dépasse la taille autorisée."),
    429: ("Trop de tentatives", "Patientez avant de réessayer."),
    500: ("Erreur interne", "Une erreur inattendue s'est produite ; elle est consignée dans le journal technique."),
}


def session_secret_key() -> bytes:
    """``LGO_WEB_SECRET_KEY``, or a random key kept in the data folder (0600), shared by the web processes of
    one machine; several machines must be given the same ``LGO_WEB_SECRET_KEY``."""
    configured = os.environ.get("LGO_WEB_SECRET_KEY")
    if configured:
        return configured.encode()
    path = data_dir() / "web-session.key"
    if not create_private_file(path, token_secrets.token_hex(32).encode()):
        private_file(path)
    return path.read_bytes().strip()


def create_app(
    kernel: Kernel | None = None,
    *,
    pharmacy_finess: str | None = None,
    secure_cookies: bool = True,
    config: dict[str, Any] | None = None,
) -> Flask:
    """The administrator's page for ``kernel`` (a started kernel on the configured database by default).

    ``secure_cookies=False`` only for plain HTTP on the loopback interface (``lgo web`` without certificate).
    """
    app = Flask(__name__, static_folder=str(Path(__file__).parent / "static"))
    app.config.update(
        SECRET_KEY=session_secret_key(),
        SESSION_COOKIE_NAME="lgo_admin",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=IDLE_LIFETIME,
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_ENABLED=True,
        WTF_CSRF_SSL_STRICT=True,
        MAX_CONTENT_LENGTH=1024 * 1024,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
        DEBUG=False,
        TESTING=False,
        LGO_PHARMACY=pharmacy_finess,
    )
    app.config.update(config or {})
    app.debug = False
    owned = kernel is None
    if kernel is None:
        kernel = Kernel()
        problem = kernel.not_ready_reason()
        if problem is not None:  # a WSGI server stops here with what to do, not with « Erreur interne » later
            kernel.close()
            raise LgoError(problem)
        kernel.start()
    if app.config["LGO_PHARMACY"] is None:
        app.config["LGO_PHARMACY"] = kernel.config.pharmacy_finess
    app.extensions[KERNEL_EXTENSION] = kernel
    if owned:
        app.extensions["lgo.kernel.owned"] = True
    app.jinja_env.autoescape = True  # every template, whatever its extension
    # One time zone for display, in every page (plugins' too): Europe/Paris.
    app.jinja_env.filters["date_fr"] = date_fr
    app.jinja_env.filters["datetime_fr"] = datetime_fr
    CSRFProtect(app)

    from lgo_web import admin, auth, certificate, pharmacy, plugin_pages, portability, team
    from lgo_web.counter import patient_file  # noqa: F401 - its views join the counter's blueprint
    from lgo_web.counter import views as counter
    from lgo_web.counter.windows import install_template_folders

    app.register_blueprint(auth.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(pharmacy.blueprint)
    app.register_blueprint(team.blueprint)
    app.register_blueprint(certificate.blueprint)
    app.register_blueprint(portability.blueprint)
    app.register_blueprint(counter.blueprint)
    counter.install(app)
    install_template_folders(app, kernel)
    auth.install(app)  # before the plugin pages' check, which needs the signed-in operator
    team.install(app)  # a temporary password is replaced before anything else
    plugin_pages.register(app, kernel)
    _install_error_pages(app)
    _install_headers(app)
    return app


def kernel_of(app: Flask) -> Kernel:
    kernel: Kernel = app.extensions[KERNEL_EXTENSION]
    return kernel


def signed_in_context(what: str, read: Callable[[Session, int], dict[str, Any]]) -> dict[str, Any]:
    """Values for every page's template, ``read`` in the signed-in user's pharmacy: none before sign-in, and none
    (logged as ``what`` unavailable) when the database fails, since the error page must render even then."""
    user = g.get("user")
    if user is None:
        return {}
    try:
        with kernel_of(current_app).transaction() as db:
            return read(db, user.pharmacy_id)
    except Exception:
        log.exception("%s unavailable", what)
        return {}


def _install_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def error_page(code: int, message: str | None = None) -> tuple[str, int]:
    title, text = ERROR_TEXTS_FR.get(code, ERROR_TEXTS_FR[500] if code >= 500 else ERROR_TEXTS_FR[400])
    return render_template("error.html", title=title, text=message or text, code=code), code


def _install_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        log.warning("CSRF refused on %s: %s", request.path, exc.description)
        from flask import redirect, session, url_for

        from lgo_web.auth import _resume_after_sign_in

        resume = _resume_after_sign_in()
        if resume and not session.get("operator_id"):  # the session ended mid-billing: sign in, then back to it
            return redirect(url_for("auth.login", next=resume))
        return error_page(
            400,
            "Formulaire expiré ou invalide (jeton de sécurité absent ou périmé) : rechargez la page puis recommencez.",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        return error_page(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[str, int]:
        # The traceback goes to the log only; the page says what happened in French, without detail.
        log.exception("unexpected error on %s %s", request.method, request.path)
        g.setdefault("error_logged", True)
        return error_page(500)
