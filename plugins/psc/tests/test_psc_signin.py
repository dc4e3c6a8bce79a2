"""Sign-in with Pro Santé Connect against a real OpenID Connect provider on loopback (npm oidc-provider)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from lgo.domain import audit
from lgo_psc import service
from lgo_psc.errors import SignInRefused
from lgo_psc.model import PscBinding, PscSession, SessionStatus
from lgo_psc.oidc import PscClient, TokenSet
from lgo_psc.settings import settings
from lgo_sandbox.psc import browse_logout, browse_sign_in
from psc_helpers import IMPOSTOR_SUB, REDIRECT_URI, TITULAIRE_RPPS, TITULAIRE_SUB, UNKNOWN_SUB, PscWorld
from sqlalchemy import select


def _sign_in(
    world: PscWorld, login_hint: str | None = None, *, tamper: dict[str, str] | None = None
) -> service.SignedIn:
    url, pending = service.begin(world.kernel, world.pharmacy_id, REDIRECT_URI, login_hint=login_hint)
    if tamper:
        url = str(httpx.URL(url).copy_merge_params(tamper))
    params = browse_sign_in(url, REDIRECT_URI)
    return service.finish(world.kernel, world.pharmacy_id, pending, params)


def test_authorization_request_is_psc_shaped(psc_world: PscWorld) -> None:
    url, pending = service.begin(psc_world.kernel, psc_world.pharmacy_id, REDIRECT_URI)
    params = httpx.URL(url).params
    assert url.startswith(psc_world.sandbox.issuer + "/protocol/openid-connect/auth")
    assert params["scope"] == "openid scope_all" and params["acr_values"] == "eidas1"
    assert params["code_challenge_method"] == "S256" and params["state"] == pending.state
    assert params["nonce"] == pending.nonce and pending.code_verifier not in url


def test_sign_in_maps_operator_by_rpps_and_binds_sub(psc_world: PscWorld) -> None:
    signed = _sign_in(psc_world, TITULAIRE_RPPS)
    assert signed.operator_id == psc_world.titulaire_id and signed.first_binding
    assert signed.professional.rpps == TITULAIRE_RPPS and signed.professional.is_pharmacist
    assert signed.activity is not None and signed.activity.finess_site == "990000010"
    with psc_world.kernel.transaction() as db:
        binding = db.scalar(select(PscBinding))
        assert binding is not None and binding.sub == TITULAIRE_SUB and binding.pharmacy_id == psc_world.pharmacy_id
        row = db.scalar(select(PscSession))
        assert row is not None and row.tokens.startswith("enc:v1:")  # tokens encrypted at rest
        assert "access_token" not in row.tokens
    again = _sign_in(psc_world, TITULAIRE_RPPS)
    assert again.operator_id == psc_world.titulaire_id and not again.first_binding


def test_sub_mismatch_is_refused(psc_world: PscWorld) -> None:
    _sign_in(psc_world, TITULAIRE_SUB)
    with pytest.raises(SignInRefused, match="n'est pas celui lié"):
        _sign_in(psc_world, IMPOSTOR_SUB)
    with psc_world.kernel.transaction() as db:
        actions = [entry.action for entry in audit.recent(db, psc_world.pharmacy_id, limit=5)]
    assert "psc.refused" in actions


def test_unknown_rpps_is_refused(psc_world: PscWorld) -> None:
    with pytest.raises(SignInRefused, match="Aucun opérateur actif"):
        _sign_in(psc_world, UNKNOWN_SUB)


def test_bad_nonce_is_refused(psc_world: PscWorld) -> None:
    # The authorization request is altered on its way (a replayed or injected response carries another nonce).
    with pytest.raises(SignInRefused, match="nonce"):
        _sign_in(psc_world, TITULAIRE_RPPS, tamper={"nonce": "un-autre-nonce"})


def _late_by(psc_world: PscWorld, seconds: float) -> Callable[[object, int], PscClient]:
    """A client whose clock runs ``seconds`` ahead: the ID token reaches it that much later (slow network)."""

    def late(kernel: object, pharmacy_id: int) -> PscClient:
        return PscClient(settings(psc_world.kernel, pharmacy_id), now=lambda: time.time() + seconds)

    return late


def test_expired_id_token_is_refused(psc_world: PscWorld) -> None:
    # A one-second ID token reaching the client 2.5 s later, with no clock leeway (injected clock, no waiting).
    psc_world.configure(leeway_seconds=0)
    psc_world.sandbox.set_ttl(id_token=1)
    url, pending = service.begin(psc_world.kernel, psc_world.pharmacy_id, REDIRECT_URI)
    params = browse_sign_in(url, REDIRECT_URI)
    with pytest.raises(SignInRefused, match="expiré"):
        service.finish(
            psc_world.kernel, psc_world.pharmacy_id, pending, params, client_factory=_late_by(psc_world, 2.5)
        )


def test_id_token_within_leeway_is_accepted(psc_world: PscWorld) -> None:
    psc_world.configure(leeway_seconds=60)
    psc_world.sandbox.set_ttl(id_token=1)
    url, pending = service.begin(psc_world.kernel, psc_world.pharmacy_id, REDIRECT_URI)
    params = browse_sign_in(url, REDIRECT_URI)
    signed = service.finish(
        psc_world.kernel, psc_world.pharmacy_id, pending, params, client_factory=_late_by(psc_world, 2.5)
    )
    assert signed.operator_id == psc_world.titulaire_id


def test_clock_skew_beyond_leeway_is_refused(psc_world: PscWorld) -> None:
    def skewed(kernel: object, pharmacy_id: int) -> PscClient:
        return PscClient(settings(psc_world.kernel, pharmacy_id), now=lambda: time.time() + 3600 + 30)

    url, pending = service.begin(psc_world.kernel, psc_world.pharmacy_id, REDIRECT_URI)
    params = browse_sign_in(url, REDIRECT_URI)
    with pytest.raises(SignInRefused, match="expiré"):
        service.finish(psc_world.kernel, psc_world.pharmacy_id, pending, params, client_factory=skewed)


def test_wrong_audience_is_refused(psc_world: PscWorld) -> None:
    url, pending = service.begin(psc_world.kernel, psc_world.pharmacy_id, REDIRECT_URI)
    params = browse_sign_in(url, REDIRECT_URI)
    with PscClient(settings(psc_world.kernel, psc_world.pharmacy_id)) as client:
        tokens = client.complete(pending, params)
        client.settings = client.settings.model_copy(update={"client_id": "un-autre-logiciel"})
        with pytest.raises(SignInRefused, match="pas destiné"):
            client.check_id_token(tokens.id_token, nonce=pending.nonce)


def test_state_mismatch_is_refused(psc_world: PscWorld) -> None:
    url, pending = service.begin(psc_world.kernel, psc_world.pharmacy_id, REDIRECT_URI)
    params = browse_sign_in(url, REDIRECT_URI)
    with pytest.raises(SignInRefused, match="state"):
        service.finish(psc_world.kernel, psc_world.pharmacy_id, pending, {**params, "state": "falsifie"})


def test_userinfo_as_signed_jwt(psc_world: PscWorld) -> None:
    psc_world.configure(client_id="lgo-test-jwt", client_secret="secret-de-test-jwt")
    signed = _sign_in(psc_world, TITULAIRE_RPPS)
    assert signed.operator_id == psc_world.titulaire_id and signed.professional.rpps == TITULAIRE_RPPS


def test_refresh_keeps_the_session(psc_world: PscWorld) -> None:
    signed = _sign_in(psc_world, TITULAIRE_RPPS)
    before = service.tokens_of(psc_world.kernel, psc_world.pharmacy_id, signed.handle)
    assert before is not None and before.refresh_token
    assert service.keep_alive(psc_world.kernel, psc_world.pharmacy_id, signed.handle, force=True)
    after = service.tokens_of(psc_world.kernel, psc_world.pharmacy_id, signed.handle)
    assert after is not None and after.access_token != before.access_token
    with PscClient(settings(psc_world.kernel, psc_world.pharmacy_id)) as client:
        assert client.userinfo(after)["SubjectNameID"] == "8" + TITULAIRE_RPPS
    # The operator leaves the module but keeps the connection: still refreshed, still usable.
    service.leave_module(psc_world.kernel, psc_world.pharmacy_id, signed.handle)
    token = service.access_token(psc_world.kernel, psc_world.pharmacy_id, psc_world.titulaire_id)
    assert token == after.access_token
    assert service.keep_alive(psc_world.kernel, psc_world.pharmacy_id, signed.handle, force=True)


def test_logout_ends_the_session(psc_world: PscWorld) -> None:
    signed = _sign_in(psc_world, TITULAIRE_RPPS)
    tokens = service.tokens_of(psc_world.kernel, psc_world.pharmacy_id, signed.handle)
    assert tokens is not None
    after = "http://localhost/plugins/psc/deconnecte"
    url = service.sign_out(psc_world.kernel, psc_world.pharmacy_id, signed.handle, post_logout_redirect_uri=after)
    assert url is not None and "id_token_hint=" in url
    assert url.startswith(psc_world.sandbox.issuer + "/protocol/openid-connect/logout")
    assert browse_logout(url).startswith(after)
    assert service.tokens_of(psc_world.kernel, psc_world.pharmacy_id, signed.handle) is None
    assert not service.keep_alive(psc_world.kernel, psc_world.pharmacy_id, signed.handle, force=True)
    with psc_world.kernel.transaction() as db:
        row = db.scalar(select(PscSession))
        assert row is not None and row.status == SessionStatus.ENDED and row.tokens == ""
    # The refresh token was revoked at PSC: it cannot extend anything any more.
    with (
        PscClient(settings(psc_world.kernel, psc_world.pharmacy_id)) as client,
        pytest.raises(SignInRefused, match="reconnectez-vous"),
    ):
        client.refresh(TokenSet.from_dict(tokens.to_dict()))


def test_weaker_acr_is_refused(psc_world: PscWorld) -> None:
    psc_world.sandbox.next_login(None, acr="eidas0")
    with pytest.raises(SignInRefused, match="niveau d'authentification"):
        _sign_in(psc_world, TITULAIRE_RPPS)


def test_stronger_acr_is_accepted(psc_world: PscWorld) -> None:
    psc_world.sandbox.next_login(None, acr="eidas3")  # CPS card
    assert _sign_in(psc_world, TITULAIRE_RPPS).operator_id == psc_world.titulaire_id
