"""OpenID Connect client for Pro Santé Connect: discovery at PSC's own path, authorization code with PKCE (S256),
state and nonce, ID token checks, userinfo (JSON or signed JWT), refresh, revocation, logout URL and CIBA (poll).

Authlib provides the protocol pieces (PKCE challenge, random tokens, URL building) and its JOSE companion
``joserfc`` the JWT checks; HTTP goes through httpx (see decision 0800)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.common.urls import add_params_to_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from lgo_psc.errors import CibaPending, PscUnavailable, SignInRefused
from lgo_psc.settings import PscSettings

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/wallet-openid-configuration"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
#: PSC's levels, weakest first: a stronger level than the one required is accepted (a CPS card gives eidas3).
EIDAS_LEVELS = ("eidas1", "eidas2", "eidas3")
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]

_CLAIM_TEXT_FR = {
    "iss": "il ne vient pas du serveur Pro Santé Connect attendu",
    "aud": "il n'est pas destiné à ce logiciel",
    "nonce": "il ne correspond pas à cette demande de connexion (nonce)",
    "acr": "le niveau d'authentification exigé n'est pas atteint",
    "exp": "il a expiré",
    "iat": "sa date d'émission est invalide",
    "sub": "l'identifiant du professionnel manque",
}


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser's session keeps between the redirect to PSC and the return (never sent to PSC as is)."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "redirect_uri": self.redirect_uri,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingSignIn:
        return cls(
            str(data["state"]),
            str(data["nonce"]),
            str(data["code_verifier"]),
            str(data["redirect_uri"]),
            float(data["created_at"]),
        )


@dataclass
class TokenSet:
    access_token: str
    expires_at: float
    id_token: str
    refresh_token: str | None
    id_claims: dict[str, Any] = field(default_factory=dict)
    refresh_expires_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "expires_at": self.expires_at,
            "id_token": self.id_token,
            "refresh_token": self.refresh_token,
            "id_claims": self.id_claims,
            "refresh_expires_at": self.refresh_expires_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        return cls(
            data["access_token"],
            float(data["expires_at"]),
            data["id_token"],
            data.get("refresh_token"),
            dict(data.get("id_claims") or {}),
            data.get("refresh_expires_at"),
        )


@dataclass(frozen=True)
class CibaRequest:
    auth_req_id: str
    expires_at: float
    interval: int


class PscClient:
    """One pharmacy's PSC client. ``now`` is injectable for tests of clock skew."""

    def __init__(
        self,
        settings: PscSettings,
        *,
        now: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not settings.client_id:
            raise PscUnavailable(
                "Pro Santé Connect n'est pas configuré : indiquez l'identifiant client dans les paramètres du module.",
                detail="psc: empty client_id",
            )
        self.settings = settings
        self.now = now
        self._http = httpx.Client(
            timeout=settings.timeout_seconds, verify=settings.ca_path or True, transport=transport
        )
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PscClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- discovery --------------------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.settings.base_url.rstrip("/")

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            data = self._get_json(self.issuer + DISCOVERY_PATH, "la découverte")
            # OpenID Connect Discovery §4.3: the document must name the issuer it was fetched from.
            if data.get("issuer") != self.issuer:
                raise PscUnavailable(
                    "Le document de découverte Pro Santé Connect ne correspond pas à l'adresse configurée.",
                    detail=f"issuer {data.get('issuer')!r} != {self.issuer!r}",
                )
            self._metadata = data
        return self._metadata

    def endpoint(self, name: str) -> str:
        value = self.metadata().get(name)
        if not isinstance(value, str) or not value:
            raise PscUnavailable(
                f"Pro Santé Connect n'annonce pas le service attendu ({name}).", detail=f"discovery has no {name}"
            )
        return value

    def keys(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            keys: Any = self._get_json(self.endpoint("jwks_uri"), "les clés de signature")
            self._keys = KeySet.import_key_set(keys)
        return self._keys

    # -- authorization code -----------------------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, *, login_hint: str | None = None) -> tuple[str, PendingSignIn]:
        pending = PendingSignIn(generate_token(32), generate_token(32), generate_token(64), redirect_uri, self.now())
        params = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.scope,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": create_s256_code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
            "acr_values": self.settings.acr_values,
        }
        if login_hint:
            params["login_hint"] = login_hint
        return add_params_to_uri(self.endpoint("authorization_endpoint"), params), pending

    def complete(self, pending: PendingSignIn, params: Mapping[str, str]) -> TokenSet:
        """Check the return from PSC (state, error) then exchange the code and check the ID token."""
        if params.get("state") != pending.state:
            raise SignInRefused(
                "Retour de Pro Santé Connect refusé : il ne correspond pas à la demande de connexion "
                "en cours (state). Recommencez la connexion.",
                detail="state mismatch",
            )
        if params.get("error"):
            raise SignInRefused(
                f"Pro Santé Connect a refusé la connexion ({params.get('error')}).",
                detail=f"{params.get('error')}: {params.get('error_description')}",
            )
        if "iss" in params and params["iss"] != self.issuer:  # RFC 9207 mix-up defence
            raise SignInRefused(
                "Retour de connexion venant d'un autre serveur que Pro Santé Connect.", detail=f"iss {params['iss']!r}"
            )
        code = params.get("code")
        if not code:
            raise SignInRefused("Retour de Pro Santé Connect sans code d'autorisation.", detail="no code")
        answer = self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": pending.redirect_uri,
                "code_verifier": pending.code_verifier,
            }
        )
        return self._token_set(answer, nonce=pending.nonce)

    # -- tokens -----------------------------------------------------------------------------------------------

    def check_id_token(self, id_token: str, *, nonce: str | None) -> dict[str, Any]:
        try:
            token = jwt.decode(id_token, self._key_for, algorithms=ALGORITHMS)
        except JoseError as exc:
            raise SignInRefused(
                "Jeton d'identité Pro Santé Connect refusé : signature invalide.", detail=f"id_token signature: {exc!r}"
            ) from exc
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.settings.client_id},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "sub": {"essential": True},
        }
        acr_values = _acceptable_acr(self.settings.acr_values.split())
        if acr_values:
            options["acr"] = {"essential": True, "values": acr_values}
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        registry = jwt.JWTClaimsRegistry(now=lambda: int(self.now()), leeway=self.settings.leeway_seconds, **options)
        claims = dict(token.claims)
        try:
            registry.validate(claims)
            azp = claims.get("azp")
            if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and azp != self.settings.client_id:
                raise InvalidClaimError("aud")
        except ExpiredTokenError as exc:
            raise SignInRefused(
                "Jeton d'identité Pro Santé Connect refusé : il a expiré (vérifiez l'heure du poste).",
                detail=f"id_token expired: exp={claims.get('exp')} now={self.now()}",
            ) from exc
        except (InvalidClaimError, MissingClaimError) as exc:
            claim = getattr(exc, "claim", "")
            text = _CLAIM_TEXT_FR.get(claim, f"revendication « {claim} » invalide")
            raise SignInRefused(
                f"Jeton d'identité Pro Santé Connect refusé : {text}.",
                detail=f"id_token claim {claim}: {exc!r}; claims={_safe(claims)}",
            ) from exc
        except JoseError as exc:
            raise SignInRefused("Jeton d'identité Pro Santé Connect refusé.", detail=repr(exc)) from exc
        return claims

    def refresh(self, token_set: TokenSet) -> TokenSet:
        if not token_set.refresh_token:
            raise SignInRefused(
                "La session Pro Santé Connect ne peut pas être prolongée : reconnectez-vous.", detail="no refresh token"
            )
        answer = self._token({"grant_type": "refresh_token", "refresh_token": token_set.refresh_token})
        renewed = self._token_set(answer, nonce=None, previous=token_set)
        if renewed.id_claims.get("sub") != token_set.id_claims.get("sub"):
            raise SignInRefused(
                "Pro Santé Connect a renvoyé un autre professionnel au renouvellement.", detail="sub changed on refresh"
            )
        return renewed

    def userinfo(self, token_set: TokenSet) -> dict[str, Any]:
        try:
            response = self._http.get(
                self.endpoint("userinfo_endpoint"), headers={"Authorization": f"Bearer {token_set.access_token}"}
            )
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        if response.status_code != 200:
            raise PscUnavailable(
                "Pro Santé Connect n'a pas donné les informations du professionnel.",
                detail=f"userinfo HTTP {response.status_code}: {response.text[:300]}",
            )
        if response.headers.get("content-type", "").split(";")[0].strip() == "application/jwt":
            try:
                token = jwt.decode(response.text, self._key_for, algorithms=ALGORITHMS)
                jwt.JWTClaimsRegistry(
                    iss={"essential": True, "value": self.issuer},
                    aud={"essential": True, "value": self.settings.client_id},
                ).validate(token.claims)
            except JoseError as exc:
                raise SignInRefused(
                    "Informations du professionnel refusées : réponse signée invalide.", detail=f"userinfo JWT: {exc!r}"
                ) from exc
            info = dict(token.claims)
        else:
            info = response.json()
        if info.get("sub") != token_set.id_claims.get("sub"):
            raise SignInRefused(
                "Informations du professionnel refusées : elles concernent une autre personne.",
                detail="userinfo sub differs from id_token sub",
            )
        return info

    def revoke(self, token: str, hint: str = "refresh_token") -> None:
        endpoint = self.metadata().get("revocation_endpoint")
        if not endpoint:
            return
        try:
            self._http.post(endpoint, data={"token": token, "token_type_hint": hint}, auth=self._auth())
        except httpx.HTTPError as exc:  # the logout redirect still ends the PSC session
            log.warning("psc: revocation failed: %r", exc)

    def end_session_url(self, id_token: str, post_logout_redirect_uri: str | None, state: str | None = None) -> str:
        params = {"id_token_hint": id_token, "client_id": self.settings.client_id}
        if post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
        if state:
            params["state"] = state
        return add_params_to_uri(self.endpoint("end_session_endpoint"), params)

    # -- CIBA (poll mode) -------------------------------------------------------------------------------------

    def ciba_start(self, login_hint: str, *, binding_message: str | None = None) -> CibaRequest:
        data = {"scope": self.settings.scope, "login_hint": login_hint, "acr_values": self.settings.acr_values}
        if binding_message:
            data["binding_message"] = binding_message
        try:
            response = self._http.post(
                self.endpoint("backchannel_authentication_endpoint"), data=data, auth=self._auth()
            )
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        answer = _json(response)
        if response.status_code != 200:
            error = answer.get("error", "")
            if error in ("unknown_user_id", "invalid_request") and "login_hint" in str(answer):
                raise SignInRefused(
                    "Pro Santé Connect ne connaît pas ce professionnel (identifiant national).", detail=str(answer)
                )
            raise PscUnavailable(
                "Pro Santé Connect a refusé la demande de connexion au poste de comptoir.",
                detail=f"CIBA HTTP {response.status_code}: {answer}",
            )
        return CibaRequest(
            answer["auth_req_id"], self.now() + float(answer.get("expires_in", 120)), int(answer.get("interval", 5))
        )

    def ciba_poll(self, request: CibaRequest) -> TokenSet:
        """The tokens once approved; :class:`CibaPending` while the professional has not answered."""
        answer = self._token({"grant_type": CIBA_GRANT, "auth_req_id": request.auth_req_id}, ciba=True)
        return self._token_set(answer, nonce=None)

    # -- internals --------------------------------------------------------------------------------------------

    def _key_for(self, guest: Any) -> Any:
        kid = guest.headers().get("kid")
        keys = self.keys()
        if kid and not any(key.kid == kid for key in keys.keys):
            keys = self.keys(refresh=True)  # PSC rotated its keys
        return keys

    def _auth(self) -> tuple[str, str]:
        return self.settings.client_id, self.settings.client_secret.get_secret_value()

    def _token(self, data: dict[str, str], *, ciba: bool = False) -> dict[str, Any]:
        try:
            response = self._http.post(
                self.endpoint("token_endpoint"), data=data, auth=self._auth(), headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        answer = _json(response)
        if response.status_code == 200:
            return answer
        error = str(answer.get("error", ""))
        if ciba and error in ("authorization_pending", "slow_down"):
            raise CibaPending("En attente de la validation sur l'application e-CPS du professionnel.", detail=error)
        if ciba and error == "access_denied":
            raise SignInRefused("Le professionnel a refusé la connexion sur son application e-CPS.", detail=error)
        if ciba and error == "expired_token":
            raise SignInRefused("La demande de connexion a expiré sans validation : recommencez.", detail=error)
        if error == "invalid_grant":
            raise SignInRefused(
                "Pro Santé Connect a refusé le jeton présenté (connexion expirée ou révoquée) : reconnectez-vous.",
                detail=f"{data['grant_type']}: {answer}",
            )
        raise PscUnavailable(
            "Pro Santé Connect a répondu par une erreur.", detail=f"token HTTP {response.status_code}: {answer}"
        )

    def _token_set(self, answer: dict[str, Any], *, nonce: str | None, previous: TokenSet | None = None) -> TokenSet:
        access = answer.get("access_token")
        if not access or str(answer.get("token_type", "")).lower() != "bearer":
            raise PscUnavailable("Réponse de Pro Santé Connect incomplète.", detail=f"token answer keys {list(answer)}")
        id_token = answer.get("id_token") or (previous.id_token if previous else None)
        if not id_token:
            raise SignInRefused("Pro Santé Connect n'a pas fourni de jeton d'identité.", detail="no id_token")
        claims = self.check_id_token(id_token, nonce=nonce) if answer.get("id_token") else previous.id_claims  # type: ignore[union-attr]
        now = self.now()
        refresh_in = answer.get("refresh_expires_in")
        return TokenSet(
            access_token=access,
            expires_at=now + float(answer.get("expires_in", 300)),
            id_token=id_token,
            refresh_token=answer.get("refresh_token") or (previous.refresh_token if previous else None),
            id_claims=claims,
            refresh_expires_at=now + float(refresh_in) if refresh_in else None,
        )

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._http.get(url)
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        if response.status_code != 200:
            raise PscUnavailable(
                f"Pro Santé Connect n'a pas fourni {what}.", detail=f"GET {url}: HTTP {response.status_code}"
            )
        data = _json(response)
        return data


def _acceptable_acr(required: list[str]) -> list[str]:
    """The requested levels, and every eIDAS level above the weakest requested one."""
    levels = [value for value in required if value in EIDAS_LEVELS]
    if not levels:
        return required
    weakest = min(EIDAS_LEVELS.index(value) for value in levels)
    return sorted(set(required) | set(EIDAS_LEVELS[weakest:]))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"error": "not_json", "body": response.text[:300]}
    return data if isinstance(data, dict) else {"error": "not_object"}


def _unreachable(exc: Exception) -> PscUnavailable:
    return PscUnavailable(
        "Pro Santé Connect est injoignable : vérifiez la connexion Internet du poste puis réessayez.", detail=repr(exc)
    )


def _safe(claims: Mapping[str, Any]) -> dict[str, Any]:
    return {key: claims.get(key) for key in ("iss", "aud", "exp", "iat", "acr", "azp")}
