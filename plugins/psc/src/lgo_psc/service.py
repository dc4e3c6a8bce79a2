"""Sign-in with Pro Santé Connect: operator mapping by RPPS, ``sub`` binding, server-side sessions (refresh, keep,
sign-out) and the decoupled flow (CIBA) for counter workstations."""

from __future__ import annotations

import json
import logging
import secrets as token_secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from lgo.api import Kernel, NotFound, Operator, Pharmacy, identifiers, secrets
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_psc import mapping
from lgo_psc.errors import CibaPending, PscUnavailable, SignInRefused
from lgo_psc.mapping import Activity, PscProfessional
from lgo_psc.model import PscBinding, PscSession, SessionStatus
from lgo_psc.oidc import CibaRequest, PendingSignIn, PscClient, TokenSet
from lgo_psc.settings import settings

log = logging.getLogger(__name__)

#: Tests and the demo swap the clock of the client (clock skew) through this factory.
ClientFactory = Callable[[Kernel, int], PscClient]


def default_client(kernel: Kernel, pharmacy_id: int) -> PscClient:
    return PscClient(settings(kernel, pharmacy_id))


@dataclass(frozen=True)
class SignedIn:
    operator_id: int
    pharmacy_id: int
    operator_name: str
    handle: str
    professional: PscProfessional
    activity: Activity | None
    first_binding: bool
    method: str


# -- authorization code ---------------------------------------------------------------------------------------


def begin(
    kernel: Kernel,
    pharmacy_id: int,
    redirect_uri: str,
    *,
    login_hint: str | None = None,
    client_factory: ClientFactory = default_client,
) -> tuple[str, PendingSignIn]:
    with client_factory(kernel, pharmacy_id) as client:
        return client.authorization_url(redirect_uri, login_hint=login_hint)


def finish(
    kernel: Kernel,
    pharmacy_id: int,
    pending: PendingSignIn,
    params: Mapping[str, str],
    *,
    client_factory: ClientFactory = default_client,
) -> SignedIn:
    try:
        with client_factory(kernel, pharmacy_id) as client:
            tokens = client.complete(pending, params)
            info = client.userinfo(tokens)
    except SignInRefused as exc:
        _audit_refusal(kernel, pharmacy_id, exc)
        raise
    return sign_in(kernel, pharmacy_id, tokens, info, method="code")


def sign_in(
    kernel: Kernel,
    pharmacy_id: int,
    tokens: TokenSet,
    info: Mapping[str, object],
    *,
    method: str,
    expected_operator_id: int | None = None,
) -> SignedIn:
    """Map the professional to the operator (RPPS), bind or check the ``sub``, open the server-side session."""
    try:
        professional = mapping.professional(info)
        with kernel.transaction() as db:
            pharmacy = db.get(Pharmacy, pharmacy_id)
            if pharmacy is None:
                raise NotFound("Officine inconnue.", detail=f"pharmacy {pharmacy_id}")
            operator = _operator_for(db, pharmacy_id, professional)
            if expected_operator_id is not None and operator.id != expected_operator_id:
                raise SignInRefused(
                    "Pro Santé Connect a authentifié un autre professionnel que celui demandé.",
                    detail=f"operator {operator.id} != expected {expected_operator_id}",
                )
            if not professional.is_pharmacist and operator.role.is_pharmacist:
                raise SignInRefused(
                    f"{operator.display_name} n'est pas enregistré comme pharmacien dans le RPPS : connexion "
                    "refusée pour un rôle de pharmacien.",
                    detail=f"professions {[e.profession for e in professional.exercises]}",
                )
            first = _bind(db, pharmacy_id, operator, professional)
            activity = professional.pharmacy_activity(pharmacy.finess)
            handle = token_secrets.token_urlsafe(32)
            db.add(
                PscSession(
                    pharmacy_id=pharmacy_id,
                    operator_id=operator.id,
                    handle=handle,
                    sub=professional.sub,
                    tokens=_seal(tokens),
                    access_expires_at=tokens.expires_at,
                    status=SessionStatus.ACTIVE,
                    method=method,
                )
            )
            where = (
                f"activité déclarée à l'officine (FINESS {pharmacy.finess})"
                if activity
                else f"aucune activité déclarée dans le RPPS pour le FINESS {pharmacy.finess}"
            )
            kernel.audit(
                pharmacy_id,
                "psc.sign_in",
                f"Connexion Pro Santé Connect de {operator.display_name} (RPPS {professional.rpps}, {where}).",
                actor=operator.code,
                session=db,
                operator_id=operator.id,
                details={"method": method, "first_binding": first, "acr": tokens.id_claims.get("acr")},
            )
            return SignedIn(
                operator.id, pharmacy_id, operator.display_name, handle, professional, activity, first, method
            )
    except SignInRefused as exc:
        _audit_refusal(kernel, pharmacy_id, exc)
        raise


def _operator_for(db: Session, pharmacy_id: int, professional: PscProfessional) -> Operator:
    if not professional.rpps:
        raise SignInRefused(
            "Ce compte Pro Santé Connect n'a pas de numéro RPPS : il ne peut pas ouvrir de session dans le LGO.",
            detail=f"id_nat {professional.id_nat!r}",
        )
    operator = db.scalar(
        select(Operator).where(Operator.pharmacy_id == pharmacy_id, Operator.rpps == professional.rpps)
    )
    if operator is None or not operator.active:
        raise SignInRefused(
            f"Aucun opérateur actif de l'officine n'a le numéro RPPS {professional.rpps} : le titulaire doit "
            "l'indiquer dans la fiche de l'opérateur.",
            detail=f"no active operator with rpps {professional.rpps}",
        )
    return operator


def _bind(db: Session, pharmacy_id: int, operator: Operator, professional: PscProfessional) -> bool:
    binding = db.scalar(
        select(PscBinding).where(PscBinding.pharmacy_id == pharmacy_id, PscBinding.operator_id == operator.id)
    )
    if binding is not None:
        if binding.sub != professional.sub:
            raise SignInRefused(
                f"Ce compte Pro Santé Connect n'est pas celui lié à {operator.display_name} lors de sa première "
                "connexion : connexion refusée. Le titulaire peut délier le compte si c'est un changement légitime.",
                detail=f"operator {operator.id}: bound sub {binding.sub!r}, got {professional.sub!r}",
            )
        binding.last_sign_in_at = datetime.now(UTC)
        return False
    other = db.scalar(
        select(PscBinding).where(PscBinding.pharmacy_id == pharmacy_id, PscBinding.sub == professional.sub)
    )
    if other is not None:
        raise SignInRefused(
            "Ce compte Pro Santé Connect est déjà lié à un autre opérateur de l'officine.",
            detail=f"sub bound to operator {other.operator_id}",
        )
    db.add(
        PscBinding(pharmacy_id=pharmacy_id, operator_id=operator.id, sub=professional.sub, rpps=professional.rpps or "")
    )
    return True


def unbind(kernel: Kernel, pharmacy_id: int, operator_id: int, *, by_operator_id: int | None = None) -> bool:
    with kernel.transaction() as db:
        binding = db.scalar(
            select(PscBinding).where(PscBinding.pharmacy_id == pharmacy_id, PscBinding.operator_id == operator_id)
        )
        if binding is None:
            return False
        db.delete(binding)
        kernel.audit(
            pharmacy_id,
            "psc.unbind",
            "Compte Pro Santé Connect délié d'un opérateur.",
            session=db,
            operator_id=by_operator_id,
            object_type="operator",
            object_id=str(operator_id),
        )
        return True


# -- server-side session --------------------------------------------------------------------------------------


def tokens_of(kernel: Kernel, pharmacy_id: int, handle: str) -> TokenSet | None:
    with kernel.transaction() as db:
        row = session_row(db, pharmacy_id, handle)
        if row is None or row.status == SessionStatus.ENDED:
            return None
        return _unseal(row.tokens)


def keep_alive(
    kernel: Kernel,
    pharmacy_id: int,
    handle: str,
    *,
    force: bool = False,
    client_factory: ClientFactory = default_client,
) -> bool:
    """Refresh the tokens when the access token is about to expire (the operator is working). ``False`` when the
    PSC session is over (ended, refused refresh): the operator must sign in again."""
    margin = settings(kernel, pharmacy_id).refresh_margin_seconds
    with kernel.transaction() as db:
        row = session_row(db, pharmacy_id, handle)
        if row is None or row.status == SessionStatus.ENDED:
            return False
        if not force and row.access_expires_at - time.time() > margin:
            return True
        tokens = _unseal(row.tokens)
    try:
        with client_factory(kernel, pharmacy_id) as client:
            renewed = client.refresh(tokens)
    except SignInRefused as exc:
        log.info("psc: session %s… ended on refresh: %s", handle[:6], exc.detail)
        _end(kernel, pharmacy_id, handle, "La session Pro Santé Connect a expiré ou a été révoquée.")
        return False
    with kernel.transaction() as db:
        row = session_row(db, pharmacy_id, handle)
        if row is None or row.status == SessionStatus.ENDED:
            return False
        row.tokens = _seal(renewed)
        row.access_expires_at = renewed.expires_at
        row.refreshes += 1
    return True


def leave_module(kernel: Kernel, pharmacy_id: int, handle: str) -> None:
    """The operator leaves a module but keeps the PSC connection: tokens stay, still refreshed while working."""
    with kernel.transaction() as db:
        row = session_row(db, pharmacy_id, handle)
        if row is not None and row.status == SessionStatus.ACTIVE:
            row.status = SessionStatus.KEPT
            kernel.audit(
                pharmacy_id,
                "psc.kept",
                "Connexion Pro Santé Connect conservée en quittant le module.",
                session=db,
                operator_id=row.operator_id,
            )


def access_token(
    kernel: Kernel, pharmacy_id: int, operator_id: int, *, client_factory: ClientFactory = default_client
) -> str | None:
    """A valid PSC access token of the operator's open session (for modules calling PSC-protected services)."""
    with kernel.transaction() as db:
        row = db.scalar(
            select(PscSession)
            .where(
                PscSession.pharmacy_id == pharmacy_id,
                PscSession.operator_id == operator_id,
                PscSession.status != SessionStatus.ENDED,
            )
            .order_by(PscSession.id.desc())
        )
        handle = row.handle if row else None
    if handle is None or not keep_alive(kernel, pharmacy_id, handle, client_factory=client_factory):
        return None
    tokens = tokens_of(kernel, pharmacy_id, handle)
    return tokens.access_token if tokens else None


def sign_out(
    kernel: Kernel,
    pharmacy_id: int,
    handle: str,
    *,
    post_logout_redirect_uri: str | None,
    client_factory: ClientFactory = default_client,
) -> str | None:
    """End the PSC session: revoke the refresh token, forget the tokens, return PSC's logout URL (id_token_hint)."""
    tokens = tokens_of(kernel, pharmacy_id, handle)
    if tokens is None:
        return None
    _end(kernel, pharmacy_id, handle, "Déconnexion de Pro Santé Connect.")
    try:
        with client_factory(kernel, pharmacy_id) as client:
            if tokens.refresh_token:
                client.revoke(tokens.refresh_token)
            return client.end_session_url(
                tokens.id_token, post_logout_redirect_uri, state=token_secrets.token_urlsafe(16)
            )
    except PscUnavailable as exc:
        log.warning("psc: logout at PSC not possible: %s", exc.detail)
        return None


def _end(kernel: Kernel, pharmacy_id: int, handle: str, message_fr: str) -> None:
    with kernel.transaction() as db:
        row = session_row(db, pharmacy_id, handle)
        if row is None or row.status == SessionStatus.ENDED:
            return
        row.status = SessionStatus.ENDED
        row.tokens = ""  # nothing to keep once the session is over
        row.ended_at = datetime.now(UTC)
        kernel.audit(pharmacy_id, "psc.sign_out", message_fr, session=db, operator_id=row.operator_id)


def session_row(db: Session, pharmacy_id: int, handle: str) -> PscSession | None:
    return db.scalar(select(PscSession).where(PscSession.pharmacy_id == pharmacy_id, PscSession.handle == handle))


def _seal(tokens: TokenSet) -> str:
    return secrets.encrypt(json.dumps(tokens.to_dict()))


def _unseal(sealed: str) -> TokenSet:
    return TokenSet.from_dict(json.loads(secrets.decrypt(sealed)))


def _audit_refusal(kernel: Kernel, pharmacy_id: int, exc: SignInRefused) -> None:
    if getattr(exc, "_lgo_audited", False):
        return
    exc._lgo_audited = True  # type: ignore[attr-defined]
    log.warning("psc: sign-in refused: %s", exc.detail)
    kernel.audit(
        pharmacy_id,
        "psc.refused",
        f"Connexion Pro Santé Connect refusée : {exc.message_fr}",
        details={"detail": exc.detail[:500]},
    )


# -- CIBA (counter workstations) ------------------------------------------------------------------------------


def ciba_start(
    kernel: Kernel,
    pharmacy_id: int,
    operator_id: int,
    *,
    binding_message: str | None = None,
    client_factory: ClientFactory = default_client,
) -> CibaRequest:
    """Ask PSC to authenticate the operator on their own device (e-CPS app); the counter then polls."""
    with kernel.transaction() as db:
        operator = db.get(Operator, operator_id)
        if operator is None or operator.pharmacy_id != pharmacy_id or not operator.rpps:
            raise SignInRefused(
                "Cet opérateur n'a pas de numéro RPPS : connexion Pro Santé Connect impossible.",
                detail=f"operator {operator_id} without rpps",
            )
        login_hint = identifiers.idnat_ps(operator.rpps)
    with client_factory(kernel, pharmacy_id) as client:
        return client.ciba_start(login_hint, binding_message=binding_message)


def ciba_poll(
    kernel: Kernel,
    pharmacy_id: int,
    operator_id: int,
    request: CibaRequest,
    *,
    client_factory: ClientFactory = default_client,
) -> SignedIn | None:
    """``None`` while the professional has not approved; the sign-in once approved."""
    try:
        return _ciba_poll_once(kernel, pharmacy_id, operator_id, request, client_factory)
    except CibaPending:
        return None


def _ciba_poll_once(
    kernel: Kernel, pharmacy_id: int, operator_id: int, request: CibaRequest, client_factory: ClientFactory
) -> SignedIn:
    try:
        with client_factory(kernel, pharmacy_id) as client:
            tokens = client.ciba_poll(request)
            info = client.userinfo(tokens)
    except SignInRefused as exc:
        _audit_refusal(kernel, pharmacy_id, exc)
        raise
    return sign_in(kernel, pharmacy_id, tokens, info, method="ciba", expected_operator_id=operator_id)


def ciba_wait(
    kernel: Kernel,
    pharmacy_id: int,
    operator_id: int,
    request: CibaRequest,
    *,
    client_factory: ClientFactory = default_client,
    sleep: Callable[[float], None] = time.sleep,
    poll_interval: float | None = None,
) -> SignedIn:
    """Poll at the interval PSC asked for until approval, refusal or expiry."""
    interval = float(request.interval if poll_interval is None else poll_interval)
    while True:
        try:
            signed = _ciba_poll_once(kernel, pharmacy_id, operator_id, request, client_factory)
        except CibaPending as pending:
            signed = None
            if pending.detail == "slow_down":  # CIBA §11: add 5 seconds to the interval from now on
                interval += 5
        if signed is not None:
            return signed
        if time.time() > request.expires_at:
            raise SignInRefused(
                "La demande de connexion a expiré sans validation : recommencez.", detail="ciba expired client-side"
            )
        sleep(interval)
