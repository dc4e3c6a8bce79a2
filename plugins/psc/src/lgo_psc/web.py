"""Web pages of the plugin (mounted by lgo-web under ``/plugins/psc/``): the sign-in button's target, PSC's return,
the PSC page of the signed-in operator (keep the connection or sign out) and the refresh while the operator works.

The plugin never imports ``lgo_web``: it writes the documented session keys (``operator_id``, ``pharmacy_id``,
``auth_method``, ``signed_in_at``) and adds ``psc_handle``, the key of its server-side session."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from lgo.api import LgoError, Operator, get_pharmacy, get_scoped, secrets, throttle, web_kernel
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from lgo_psc import service
from lgo_psc.errors import PscUnavailable
from lgo_psc.model import PscBinding, PscSession
from lgo_psc.oidc import CibaRequest, PendingSignIn
from lgo_psc.settings import settings

log = logging.getLogger(__name__)

HANDLE = "psc_handle"
PENDING = "psc_pending"
CIBA = "psc_ciba"
#: Shown on the counter screen and on the professional's device, so that they approve the right request.
COUNTER_BINDING = "LGO-COMPTOIR"
#: A sign-in started more than this long ago is not accepted back.
PENDING_LIFETIME = 600
#: Counter sign-in requests: at most this many for one code, and from one workstation, in the window.
COUNTER_FORM = "psc_counter"
COUNTER_REQUEST = "psc.counter_request"
MAX_PER_CODE = 3
MAX_PER_ADDRESS = 10
WINDOW = timedelta(minutes=10)
#: When no request was pushed, the waiting page behaves like one nobody approves.
DECOY_LIFETIME = 120
DECOY_INTERVAL = 5
SENT_FR = (
    "Si ce code est celui d'un professionnel de l'officine relié à Pro Santé Connect, une demande de validation "
    "vient d'être envoyée sur son application e-CPS."
)
TOO_MANY_FR = "Trop de demandes de connexion pour ce code ou depuis ce poste : patientez quelques minutes."
EXPIRED_FR = (
    "La demande de connexion a expiré sans validation : recommencez, ou connectez-vous avec votre mot de passe si "
    "aucune demande n'est arrivée sur votre téléphone."
)


def _pharmacy_id() -> int:
    if isinstance(session.get("pharmacy_id"), int):
        return int(session["pharmacy_id"])
    with web_kernel().transaction() as db:
        return get_pharmacy(db, current_app.config.get("LGO_PHARMACY")).id


def _factory() -> service.ClientFactory:
    factory: service.ClientFactory = current_app.config.get("LGO_PSC_CLIENT_FACTORY", service.default_client)
    return factory


def _open_session(signed: service.SignedIn, pharmacy_id: int) -> None:
    session.clear()  # a new session on sign-in (no fixation)
    session.permanent = True
    session.update(operator_id=signed.operator_id, pharmacy_id=pharmacy_id, auth_method="psc", signed_in_at=time.time())
    session[HANDLE] = signed.handle


def blueprint() -> Blueprint:
    bp = Blueprint("psc", __name__, template_folder="templates")

    @bp.route("/login")
    def login() -> Response:
        pharmacy_id = _pharmacy_id()
        configured = settings(web_kernel(), pharmacy_id)
        redirect_uri = configured.redirect_uri or url_for("psc.callback", _external=True)
        try:
            url, pending = service.begin(
                web_kernel(),
                pharmacy_id,
                redirect_uri,
                login_hint=request.args.get("login_hint"),
                client_factory=_factory(),
            )
        except LgoError as exc:
            log.warning("psc: sign-in not started: %s", exc.detail)
            flash(exc.message_fr, "error")
            return redirect(url_for("auth.login"))
        session[PENDING] = secrets.encrypt(json.dumps(pending.to_dict()))
        return redirect(url)

    @bp.route("/retour")
    def callback() -> Any:
        sealed = session.get(PENDING)
        if sealed is None and not request.args.get("relance"):
            # The session cookie is SameSite=Strict: a browser does not send it on the redirect from PSC. A
            # same-site reload (no script: the page's policy forbids them) brings it back.
            target = request.full_path + ("&" if request.query_string else "?") + "relance=1"
            return Markup(
                '<!doctype html><meta http-equiv="refresh" content="0;url={}"><p>Connexion en cours…</p>'
            ).format(target)
        session.pop(PENDING, None)
        if sealed is None:
            flash("Connexion Pro Santé Connect interrompue (demande introuvable) : recommencez.", "error")
            return redirect(url_for("auth.login"))
        pending = PendingSignIn.from_dict(json.loads(secrets.decrypt(sealed)))
        if time.time() - pending.created_at > PENDING_LIFETIME:
            flash("Connexion Pro Santé Connect trop ancienne : recommencez.", "error")
            return redirect(url_for("auth.login"))
        pharmacy_id = _pharmacy_id()
        params = {key: value for key, value in request.args.items() if key != "relance"}
        try:
            signed = service.finish(web_kernel(), pharmacy_id, pending, params, client_factory=_factory())
        except LgoError as exc:
            log.warning("psc: sign-in refused: %s", exc.detail)
            flash(exc.message_fr, "error")
            return redirect(url_for("auth.login"))
        _open_session(signed, pharmacy_id)
        if signed.activity is None:
            flash("Pro Santé Connect ne déclare pas d'activité de ce professionnel dans cette officine.", "info")
        return redirect("/")  # the counter, or the admin pages for an administrator

    @bp.route("/")
    def index() -> Any:
        kernel = web_kernel()
        pharmacy_id = _pharmacy_id()
        handle = session.get(HANDLE)
        row = None
        if isinstance(handle, str):
            with kernel.transaction() as db:
                row = service.session_row(db, pharmacy_id, handle)
                if row is not None:
                    db.expunge(row)
        with kernel.transaction() as db:
            bindings = [
                (operator.display_name, binding.rpps, binding.operator_id, binding.last_sign_in_at)
                for binding, operator in db.execute(
                    select(PscBinding, Operator)
                    .join(Operator, Operator.id == PscBinding.operator_id)
                    .where(PscBinding.pharmacy_id == pharmacy_id)
                    .order_by(Operator.last_name)
                )
            ]
        return render_template("psc/index.html", psc_session=row, now=time.time(), bindings=bindings)

    @bp.route("/liaisons/<operator_id>/delier", methods=["POST"])
    def unbind(operator_id: str) -> Response:
        # Titulaire and administrateur only: lgo-web refuses POSTs from read-only roles before this view.
        by = session.get("operator_id")
        pharmacy_id = _pharmacy_id()
        try:
            with web_kernel().transaction() as db:
                operator = get_scoped(db, Operator, operator_id, pharmacy_id, "opérateur").id
        except LgoError as exc:
            flash(exc.message_fr, "error")
            return redirect(url_for("psc.index"))
        if service.unbind(web_kernel(), pharmacy_id, operator, by_operator_id=by if isinstance(by, int) else None):
            flash(
                "Compte Pro Santé Connect délié : la prochaine connexion PSC de cet opérateur le liera à nouveau.",
                "info",
            )
        return redirect(url_for("psc.index"))

    @bp.route("/quitter", methods=["POST"])
    def leave() -> Response:
        handle = session.get(HANDLE)
        if isinstance(handle, str):
            service.leave_module(web_kernel(), _pharmacy_id(), handle)
        flash("Connexion Pro Santé Connect conservée.", "info")
        return redirect("/modules")

    @bp.route("/deconnexion", methods=["POST"])
    def logout() -> Response:
        handle = session.get(HANDLE)
        pharmacy_id = _pharmacy_id()
        url = None
        if isinstance(handle, str):
            configured = settings(web_kernel(), pharmacy_id)
            after = configured.post_logout_redirect_uri or url_for("psc.logged_out", _external=True)
            url = service.sign_out(
                web_kernel(), pharmacy_id, handle, post_logout_redirect_uri=after, client_factory=_factory()
            )
        session.clear()
        if url:
            return redirect(url)
        flash("Vous êtes déconnecté.", "info")
        return redirect(url_for("auth.login"))

    @bp.route("/deconnecte")
    def logged_out() -> Response:
        flash("Vous êtes déconnecté de Pro Santé Connect.", "info")
        return redirect(url_for("auth.login"))

    @bp.route("/comptoir", methods=["GET", "POST"])
    def counter() -> Any:
        """Counter workstation: the operator types their code, PSC asks them to approve on their e-CPS app. The
        answer is the same whatever the code (known, unknown, without RPPS, PSC unreachable): the page tells
        nobody which codes exist; the journal tells the titulaire what happened."""
        if request.method == "GET":
            return render_template("psc/counter.html")
        pharmacy_id = _pharmacy_id()
        code = (request.form.get("code") or "").strip()[:32]
        if not code:
            flash("Saisissez votre code opérateur.", "error")
            return render_template("psc/counter.html"), 400
        allowed, operator_id = _counter_request(pharmacy_id, code, request.remote_addr or "?")
        if not allowed:
            flash(TOO_MANY_FR, "error")
            return render_template("psc/counter.html"), 429
        started = _push(pharmacy_id, operator_id) if operator_id is not None else None
        expires_at = started.expires_at if started else time.time() + DECOY_LIFETIME
        session[CIBA] = secrets.encrypt(
            json.dumps(
                {
                    "operator_id": operator_id if started else None,
                    "auth_req_id": started.auth_req_id if started else None,
                    "expires_at": expires_at,
                    "interval": started.interval if started else DECOY_INTERVAL,
                }
            )
        )
        flash(SENT_FR, "info")
        return redirect(url_for("psc.counter_wait"))

    @bp.route("/comptoir/attente")
    def counter_wait() -> Any:
        sealed = session.get(CIBA)
        if sealed is None:
            return redirect(url_for("psc.counter"))
        data = json.loads(secrets.decrypt(sealed))
        waiting = CibaRequest(data["auth_req_id"] or "", float(data["expires_at"]), int(data["interval"]))
        pharmacy_id = _pharmacy_id()
        signed = None
        if data["auth_req_id"]:  # None: no request was pushed, the page waits like the others and expires
            try:
                signed = service.ciba_poll(
                    web_kernel(), pharmacy_id, int(data["operator_id"]), waiting, client_factory=_factory()
                )
            except LgoError as exc:
                session.pop(CIBA, None)
                flash(exc.message_fr, "error")
                return redirect(url_for("psc.counter"))
        if signed is None:
            if time.time() > waiting.expires_at:
                session.pop(CIBA, None)
                flash(EXPIRED_FR, "error")
                return redirect(url_for("psc.counter"))
            return render_template("psc/counter_wait.html", interval=waiting.interval, binding=COUNTER_BINDING)
        _open_session(signed, pharmacy_id)
        return redirect("/")  # the counter, or the admin pages for an administrator

    for public in (login, callback, logged_out, counter, counter_wait):
        setattr(public, "lgo_public", True)  # noqa: B010 - the attribute lgo-web reads on views
    for any_role in (leave, logout):
        setattr(any_role, "lgo_any_role", True)  # noqa: B010

    @bp.before_app_request
    def refresh_while_working() -> Any:
        handle = session.get(HANDLE)
        if session.get("auth_method") != "psc" or not isinstance(handle, str) or request.endpoint == "static":
            return None
        pharmacy_id = session.get("pharmacy_id")
        if not isinstance(pharmacy_id, int) or not web_kernel().is_active(pharmacy_id, "psc"):
            return None
        try:
            alive = service.keep_alive(web_kernel(), pharmacy_id, handle, client_factory=_factory())
        except PscUnavailable as exc:  # PSC unreachable for a moment: the operator keeps working
            log.warning("psc: refresh not possible: %s", exc.detail)
            return None
        if alive or request.endpoint == "psc.logout":
            return None
        session.clear()
        flash("Votre session Pro Santé Connect a pris fin : reconnectez-vous.", "info")
        return redirect(url_for("auth.login"))

    return bp


def _counter_request(pharmacy_id: int, code: str, address: str) -> tuple[bool, int | None]:
    """Count and record this request, serialised per code so that a burst cannot slip through: (within the limits,
    the active operator to push a request to — None for an unknown code)."""
    with web_kernel().transaction() as db:
        throttle.serialise(db, COUNTER_FORM, code)
        by_code = throttle.requests(
            db, pharmacy_id, form=COUNTER_FORM, action=COUNTER_REQUEST, window=WINDOW, code=code
        )
        by_address = throttle.requests(
            db, pharmacy_id, form=COUNTER_FORM, action=COUNTER_REQUEST, window=WINDOW, address=address
        )
        if by_code >= MAX_PER_CODE or by_address >= MAX_PER_ADDRESS:
            log.warning("psc: counter sign-in refused for %r from %s (%s, %s)", code, address, by_code, by_address)
            return False, None
        operator = db.scalar(
            select(Operator).where(
                Operator.pharmacy_id == pharmacy_id, Operator.code == code, Operator.active.is_(True)
            )
        )
        throttle.record(
            db,
            pharmacy_id,
            form=COUNTER_FORM,
            code=code,
            address=address,
            action=COUNTER_REQUEST,
            message_fr=f"Demande de connexion au comptoir par Pro Santé Connect pour le code « {code} »"
            + ("." if operator is not None else " (code inconnu : aucune demande envoyée)."),
            actor="psc",
            operator_id=operator.id if operator is not None else None,
        )
        return True, operator.id if operator is not None else None


def _push(pharmacy_id: int, operator_id: int) -> CibaRequest | None:
    """Ask PSC to push the request to the operator's phone; a failure is logged and journaled, not shown."""
    try:
        return service.ciba_start(
            web_kernel(), pharmacy_id, operator_id, binding_message=COUNTER_BINDING, client_factory=_factory()
        )
    except LgoError as exc:
        log.warning("psc: counter sign-in not started: %s", exc.detail)
        web_kernel().audit(
            pharmacy_id,
            "psc.counter_not_sent",
            f"Demande de connexion au comptoir non envoyée : {exc.message_fr}",
            actor="psc",
            operator_id=operator_id,
        )
        return None


__all__ = ["HANDLE", "PscSession", "blueprint"]
