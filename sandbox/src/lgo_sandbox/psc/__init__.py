"""Pro Santé Connect sandbox: a real OpenID Connect provider (npm ``oidc-provider``) on loopback, shaped like PSC.

PSC's paths (issuer ``…/auth/realms/esante-wallet``, discovery at ``/.well-known/wallet-openid-configuration``,
Keycloak-like endpoints), its scope ``scope_all``, its ``acr`` ``eidas1`` and its claims (``SubjectNameID``,
``SubjectRefPro``, ``otherIds``) for fictional test users only. Sign-in is automated: an interaction handler logs
in the user named by the request's ``login_hint`` (RPPS, idNat or ``sub``) or by :meth:`PscSandbox.next_login`.
The decoupled flow (CIBA, poll mode) waits for :meth:`PscSandbox.ciba_approve`, which stands for the
pharmacist's approval on the authentication device.

The npm package is installed once into a cache folder outside the repository (``LGO_PSC_OP_DIR``, default
``~/.cache/lgo/psc-op``); ``node_modules`` is never part of the repository.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lgo_sandbox import npm

SCRIPT = Path(__file__).parent / "psc-op.mjs"
#: Pinned: the sandbox is a test peer, its behaviour must not move under the tests.
OIDC_PROVIDER_VERSION = "9.13.3"
REALM_PATH = "/auth/realms/esante-wallet"
DISCOVERY_PATH = "/.well-known/wallet-openid-configuration"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
PHARMACIST_PROFESSION = "21"
OFFICINE_SECTOR = "SA33"

_running: list[subprocess.Popen[bytes]] = []


class PscSandboxUnavailable(RuntimeError):
    """Node.js or npm is missing, or the npm package could not be installed."""


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


#: oidc-provider 9 needs this Node.js (Debian 12's own nodejs 18 is too old: use NodeSource's).
MINIMUM_NODE = (20, 19)


def node_version() -> tuple[int, int] | None:
    if shutil.which("node") is None:
        return None
    done = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    try:
        major, minor = done.stdout.strip().lstrip("v").split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


def cache_dir() -> Path:
    return npm.cache_dir("LGO_PSC_OP_DIR", "psc-op")


def ensure_installed(directory: Path | None = None) -> Path:
    """Install ``oidc-provider`` (pinned) into ``directory`` unless already there; return the folder."""
    if not node_available():
        raise PscSandboxUnavailable("node/npm absents (paquets Debian « nodejs » et « npm »)")
    version = node_version()
    if version is None or version < MINIMUM_NODE:
        raise PscSandboxUnavailable(
            f"Node.js {version} trop ancien : oidc-provider {OIDC_PROVIDER_VERSION} demande "
            f"Node.js ≥ {MINIMUM_NODE[0]}.{MINIMUM_NODE[1]}"
        )
    directory = directory or cache_dir()
    try:
        npm.install(directory, "oidc-provider", OIDC_PROVIDER_VERSION, type="module")
    except npm.NpmInstallFailed as exc:
        raise PscSandboxUnavailable(str(exc)) from exc
    return directory


def pharmacist_claims(
    rpps: str,
    *,
    given_name: str,
    family_name: str,
    finess: str,
    pharmacy_name: str = "PHARMACIE DE TEST",
    section: str = "A",
    profession: str = PHARMACIST_PROFESSION,
    sector: str = OFFICINE_SECTOR,
) -> dict[str, Any]:
    """PSC userinfo claims of a fictional professional (pharmacien d'officine by default), as in PSC's samples."""
    id_nat = f"8{rpps}"
    return {
        "SubjectNameID": id_nat,
        "preferred_username": id_nat,
        "given_name": given_name,
        "family_name": family_name,
        "SubjectOrganization": pharmacy_name,
        "SubjectOrganizationID": f"F{finess}",
        "SubjectRole": [f"{profession}^1.2.250.1.213.1.1.5.5"],
        "Secteur_Activite": f"{sector}^1.2.250.1.71.4.2.4",
        "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
        "UITVersion": "1.0",
        "PSI_Locale": "1.2.250.1.213.1.3.1.1",
        "otherIds": [{"identifiant": id_nat, "origine": "RPPS", "qualite": 1}],
        "SubjectRefPro": {
            "codeCivilite": "",
            "exercices": [
                {
                    "codeProfession": profession,
                    "codeCategorieProfessionnelle": "C",
                    "codeCiviliteDexercice": "",
                    "nomDexercice": family_name,
                    "prenomDexercice": given_name,
                    "codeTypeSavoirFaire": "",
                    "codeSavoirFaire": "",
                    "activities": [
                        {
                            "codeModeExercice": "L",
                            "codeSecteurDactivite": sector,
                            "codeSectionPharmacien": section if profession == PHARMACIST_PROFESSION else "",
                            "codeRole": "",
                            "numeroSiretSite": "",
                            "numeroSirenSite": "",
                            "numeroFinessSite": finess,
                            "numeroFinessetablissementJuridique": "",
                            "identifiantTechniqueDeLaStructure": f"F{finess}",
                            "raisonSocialeSite": pharmacy_name,
                            "enseigneCommercialeSite": "",
                            "codePostal": "99100",
                            "bureauCedex": "99100 VILLEDEMO",
                            "codePays": "",
                            "autoriteDenregistrement": "CNOP/CNOP/ARS",
                        }
                    ],
                }
            ],
        },
    }


def client(
    client_id: str,
    client_secret: str,
    redirect_uris: list[str],
    *,
    post_logout_redirect_uris: list[str] | None = None,
    userinfo_jwt: bool = False,
) -> dict[str, Any]:
    """A confidential client of the sandbox realm (code + refresh + CIBA poll)."""
    metadata: dict[str, Any] = {
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": post_logout_redirect_uris or [],
        "grant_types": ["authorization_code", "refresh_token", CIBA_GRANT],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "backchannel_token_delivery_mode": "poll",
    }
    if userinfo_jwt:
        metadata["userinfo_signed_response_alg"] = "RS256"
    return metadata


@dataclass
class PscSandbox:
    issuer: str
    process: subprocess.Popen[bytes]
    workdir: Path
    _owned_workdir: bool = field(default=False, repr=False)

    @property
    def base_url(self) -> str:
        """What the plugin's settings call the PSC base address (the realm's URL)."""
        return self.issuer

    @property
    def discovery_url(self) -> str:
        return self.issuer + DISCOVERY_PATH

    @property
    def origin(self) -> str:
        return self.issuer[: -len(REALM_PATH)]

    def _test(self, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.origin}/__test__/{path}"
        response = httpx.post(url, json=body or {}) if body is not None else httpx.get(url)
        response.raise_for_status()
        return response.json()

    def set_ttl(
        self, *, id_token: int | None = None, access_token: int | None = None, token_delay_ms: int | None = None
    ) -> None:
        """Lifetimes (seconds) of the next tokens; ``token_delay_ms`` delays the token endpoint's answers."""
        self._test("ttl", {"id_token": id_token, "access_token": access_token, "token_delay_ms": token_delay_ms})

    def next_login(self, login_hint: str | None, *, acr: str | None = None) -> None:
        """User signed in when the request names none; ``acr`` forces the level PSC reports (e.g. ``eidas3`` for a
        CPS card)."""
        self._test("next-login", {"login_hint": login_hint, "acr": acr})

    def ciba_pending(self) -> list[dict[str, Any]]:
        pending: list[dict[str, Any]] = self._test("ciba/pending")
        return pending

    def ciba_approve(self, login_hint: str | None = None, *, deny: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._test("ciba/approve", {"login_hint": login_hint, "deny": deny})
        return result

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(ValueError):
            _running.remove(self.process)
        if self._owned_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> PscSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_psc_sandbox(
    *,
    clients: list[dict[str, Any]],
    accounts: dict[str, dict[str, Any]],
    default_account: str | None = None,
    workdir: Path | None = None,
    install_dir: Path | None = None,
    timeout: float = 60.0,
) -> PscSandbox:
    """Start the provider on a free loopback port and wait until it answers; ``accounts`` maps ``sub`` to claims."""
    modules = ensure_installed(install_dir) / "node_modules"
    owned = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="lgo-psc-"))
    if owned:  # it holds the clients' secrets: removed at exit even if the caller never stops the server
        atexit.register(shutil.rmtree, workdir, True)
    config = workdir / "psc-op.json"
    config.touch(mode=0o600)
    config.write_text(
        json.dumps(
            {"clients": clients, "accounts": accounts, "default_account": default_account or next(iter(accounts))}
        )
    )
    env = {**os.environ, "NODE_PATH": str(modules), "NODE_NO_WARNINGS": "1"}
    # ESM resolves packages from the script's folder, not NODE_PATH: run a copy placed next to node_modules.
    script = modules.parent / SCRIPT.name
    if not script.exists() or script.read_bytes() != SCRIPT.read_bytes():
        shutil.copyfile(SCRIPT, script)
    log_file = open(workdir / "psc-op.log", "wb")  # noqa: SIM115 - open as long as the server runs
    process = subprocess.Popen(["node", str(script), str(config)], stdout=subprocess.PIPE, stderr=log_file, env=env)
    _running.append(process)
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            break
    if not line:
        process.kill()
        log = (workdir / "psc-op.log").read_text(errors="replace")[-2000:]
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)
        raise PscSandboxUnavailable(f"le fournisseur PSC de test n'a pas démarré : {log}")
    issuer = json.loads(line)["issuer"]
    sandbox = PscSandbox(issuer, process, workdir, owned)
    httpx.get(sandbox.discovery_url, timeout=10).raise_for_status()
    return sandbox


@atexit.register
def _stop_all() -> None:
    for process in list(_running):
        if process.poll() is None:
            process.kill()


# -- the browser's part, for tests and the demo ---------------------------------------------------------------


def browse_sign_in(
    authorization_url: str, redirect_uri: str, *, http: httpx.Client | None = None, max_hops: int = 10
) -> dict[str, str]:
    """Follow PSC's redirects like a browser (automated login) until the return to ``redirect_uri``; return the
    query parameters of that return (``code``, ``state``, ``iss``…). ``http`` keeps the provider's cookies."""
    own = http is None
    http = http or httpx.Client()
    try:
        url = authorization_url
        for _ in range(max_hops):
            if url.startswith(redirect_uri):
                return dict(httpx.URL(url).params)
            response = http.get(url)
            if response.status_code not in (302, 303):
                raise RuntimeError(f"unexpected answer {response.status_code} at {url}: {response.text[:300]}")
            url = str(response.url.join(response.headers["location"]))
        raise RuntimeError("too many redirects")
    finally:
        if own:
            http.close()


def browse_logout(end_session_url: str, *, http: httpx.Client | None = None) -> str:
    """Open PSC's logout page and confirm it like the user would; return where PSC sends the browser after."""
    import re

    own = http is None
    http = http or httpx.Client()
    try:
        page = http.get(end_session_url)
        page.raise_for_status()
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
        if not action or not xsrf:
            raise RuntimeError(f"no logout form: {page.text[:300]}")
        confirm = http.post(str(page.url.join(action.group(1))), data={"xsrf": xsrf.group(1), "logout": "yes"})
        if confirm.status_code not in (302, 303):
            raise RuntimeError(f"logout answered {confirm.status_code}: {confirm.text[:300]}")
        return str(confirm.headers["location"])
    finally:
        if own:
            http.close()
