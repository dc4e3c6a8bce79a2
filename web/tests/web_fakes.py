"""Fake plugin distributions for the admin page's tests (the real Ségur plugins are other members): ``ins`` with
settings and its own admin page, ``dmp`` (automatic feeding per document type), ``vaccination`` requiring ``ins``,
``mssante`` owning a provider capability with two providers, ``psc`` with the Pro Santé Connect sign-in, a
third-party module of wave 1 (``rappels``, not the project's) and a plugin whose label is HTML,
one written for an older plugin API and one failing at start-up. Plus a kernel on them and a background web
server."""

from __future__ import annotations

import importlib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from lgo.kernel import Kernel
from lgo.testing.dists import write_distribution
from werkzeug.serving import make_server

#: The capability of the fake secure-mail plugin (distinct from the real ``mssante`` plugin's, which may be
#: installed in the same environment).
MSS_CAPABILITY = "mssante_test"
EVIL_LABEL = '<img src=x onerror="alert(1)">Module piégé'

_HEADER = """
from __future__ import annotations
from typing import Any
from pydantic import BaseModel, Field, HttpUrl, SecretStr, field_validator
from lgo import hookimpl
from lgo.plugins.manifest import Manifest
"""

PLUGINS: dict[str, str] = {
    "ins": _HEADER
    + """
class InsSettings(BaseModel):
    reprompt_count: int = Field(3, ge=0, le=10, title="Nombre de relances INS",
                                description="Relances quand aucune pièce d'identité n'est présentée.")
    endpoint: HttpUrl = Field(HttpUrl("https://insi.sandbox.local/insi"), title="Adresse du téléservice INSi")
    mode: str = Field("auto", title="Mode d'appel")

MANIFEST = Manifest(name="ins", plugin_api=">=2.0,<3", wave=1, label_fr="Identité nationale de santé",
                    description_fr="Qualification de l'INS par le téléservice INSi.", settings=InsSettings,
                    distribution="lgo-webtest-ins", publisher="LGO libre")

@hookimpl
def lgo_register_web_blueprints() -> list[Any]:
    from flask import Blueprint, current_app, session

    blueprint = Blueprint("ins_admin", __name__)

    @blueprint.route("/")
    def index() -> str:
        kernel = current_app.extensions["lgo.kernel"]
        settings = kernel.plugin_settings(session["pharmacy_id"], "ins")
        return ("<!doctype html><title>INS</title><h1>Page du module INS</h1>"
                f"<p id=reprompt>Relances INS : {settings.reprompt_count}</p>")

    return [blueprint]
""",
    "dmp": _HEADER
    + """
class DmpSettings(BaseModel):
    auto_feed: dict[str, bool] = Field(
        default_factory=lambda: {"vaccination": True, "entretien": False, "bilan_medication": False},
        title="Alimentation automatique du DMP par type de document")

MANIFEST = Manifest(name="dmp", plugin_api=">=2.0,<3", wave=1, requires=("ins",), label_fr="DMP",
                    settings=DmpSettings, distribution="lgo-webtest-dmp", publisher="LGO libre")
""",
    "vaccination": _HEADER
    + """
MANIFEST = Manifest(name="vaccination", plugin_api=">=2.0,<3", wave=2, requires=("ins",),
                    label_fr="Vaccination", distribution="lgo-webtest-vaccination", publisher="LGO libre")
""",
    "mssante": _HEADER
    + f"""
class MssSettings(BaseModel):
    endpoint: HttpUrl = Field(HttpUrl("https://mss.sandbox.local/"), title="Adresse de l'opérateur MSSanté")
    mailbox: str = Field("officine@pharmacie.mssante.fr", title="Boîte aux lettres")
    password: SecretStr | None = Field(None, title="Mot de passe de la boîte")

    @field_validator("mailbox")
    @classmethod
    def _mssante_domain(cls, value: str) -> str:
        if not value.endswith(".mssante.fr"):
            raise ValueError("L'adresse doit appartenir à l'espace de confiance (…mssante.fr).")
        return value

MANIFEST = Manifest(name="mssante", plugin_api=">=2.0,<3", wave=1, label_fr="Messagerie sécurisée",
                    provider_capabilities=({MSS_CAPABILITY!r},), settings=MssSettings,
                    distribution="lgo-webtest-mssante", publisher="LGO libre")

class Mailiz:
    label = "Mailiz (boîte nominative)"

class Organisationnelle:
    label = "Boîte organisationnelle"
""",
    "psc": _HEADER
    + """
MANIFEST = Manifest(name="psc", plugin_api=">=2.0,<3", wave=2, label_fr="Pro Santé Connect",
                    distribution="lgo-webtest-psc", publisher="LGO libre")

@hookimpl
def lgo_register_web_blueprints() -> list[Any]:
    import time
    from flask import Blueprint, current_app, redirect, request, session
    from sqlalchemy import select
    from lgo.domain.pharmacy import Operator

    blueprint = Blueprint("psc", __name__)

    @blueprint.route("/login")
    def login() -> Any:
        # The real plugin runs the OpenID Connect flow; this fake trusts the RPPS it is given.
        kernel = current_app.extensions["lgo.kernel"]
        with kernel.transaction() as db:
            operator = db.scalar(select(Operator).where(Operator.rpps == request.args["rpps"]))
            session.clear()
            session.permanent = True
            session.update(operator_id=operator.id, pharmacy_id=operator.pharmacy_id, auth_method="psc",
                           signed_in_at=time.time())
        return redirect("/modules")

    login.lgo_public = True
    return [blueprint]

@hookimpl
def lgo_register_sign_in_methods() -> list[Any]:
    from lgo.plugins.registrations import SignInMethod

    return [SignInMethod("psc", "Se connecter avec Pro Santé Connect", "psc.login", "psc")]
""",
    "rappels": _HEADER
    + """
MANIFEST = Manifest(name="rappels", plugin_api=">=2.0,<3", wave=1, label_fr="Rappels (exemple tiers)",
                    distribution="lgo-webtest-rappels")
""",
    "piege": _HEADER
    + f"""
MANIFEST = Manifest(name="piege", plugin_api=">=2.0,<3", wave=2, label_fr={EVIL_LABEL!r},
                    description_fr="<b>gras</b>", distribution="lgo-webtest-piege")
""",
    "ancien": _HEADER
    + """
MANIFEST = Manifest(name="ancien", plugin_api=">=0.1,<1", wave=1, label_fr="Module ancien",
                    distribution="lgo-webtest-ancien")
""",
    "casse": _HEADER
    + """
MANIFEST = Manifest(name="casse", plugin_api=">=2.0,<3", wave=2, label_fr="Module cassé",
                    distribution="lgo-webtest-casse")

@hookimpl
def lgo_startup(kernel: Any) -> None:
    raise RuntimeError("fichier de configuration introuvable")
""",
}


def install_fakes(root: Path, names: tuple[str, ...] = tuple(PLUGINS)) -> list[Any]:
    """Write the fake distributions into ``root`` (already on sys.path) and import their plugin modules."""
    modules = []
    for name in names:
        module = f"lgowebtest_{name}"
        entry_points: dict[str, dict[str, str]] = {"lgo.plugins": {name: module}}
        if name == "mssante":
            entry_points[f"lgo.providers.{MSS_CAPABILITY}"] = {
                "mailiz": f"{module}:Mailiz",
                "organisationnelle": f"{module}:Organisationnelle",
            }
        write_distribution(
            root, f"lgo-webtest-{name}", version="0.4.2", modules={module: PLUGINS[name]}, entry_points=entry_points
        )
        importlib.invalidate_caches()
        modules.append(importlib.import_module(module))
    return modules


def fake_kernel(database_url: str, root: Path, names: tuple[str, ...] = tuple(PLUGINS)) -> Kernel:
    """A started kernel with the fake plugins only (installed real plugins are left out: their names could
    collide with the fakes'). Not strict, as in production: a plugin failing to start is shown, not raised."""
    kernel = Kernel(database_url, strict=False, discover_installed=False, extra_plugins=install_fakes(root, names))
    kernel.upgrade_database()
    return kernel.start()


@contextmanager
def serving(app: Flask, context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, name="lgo-web-test", daemon=True)
    thread.start()
    try:
        yield f"{'https' if context else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


BASE_URL = "https://localhost"


def csrf_token(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def https_client(app: Flask) -> Any:
    """A test client speaking HTTPS with a same-origin Referer, as a browser does (Flask-WTF checks it)."""
    client = app.test_client()
    client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_REFERER": f"{BASE_URL}/", "HTTP_HOST": "localhost"})
    return client


def sign_in(client: Any, code: str, password: str) -> Any:
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    return client.post("/connexion", data={"code": code, "password": password, "csrf_token": token})


def text(response: Any) -> str:
    """The page as its reader sees it (HTML entities decoded)."""
    import html

    return html.unescape(response.get_data(as_text=True))


def post_form(client: Any, page: str, action: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST ``data`` to ``action`` with the CSRF token read from ``page``, like a browser form."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **(data or {})}, **kwargs)
