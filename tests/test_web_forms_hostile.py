"""Every form of the administrator's page — the kernel's and the real modules' — and every id in an address,
submitted with hostile values (ids beyond what the database holds, texts longer than their column, a NUL
character, markup…): a French page every time, never an error 500, on SQLite and a real PostgreSQL (issue 16).

The forms are found on the pages themselves (a new form is fuzzed without a change here); hypothesis chooses, for
each example, a form and a hostile or ordinary value for each field."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.demo_data import PASSWORD, Seeded, seed
from lgo.kernel import Kernel

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "2147483647",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999999999",
    "1e309",
    "abc",
    "x" * 300,
    "é" * 2000,
    "a\x00b",
    "<script>alert(1)</script>",
    "'; DROP TABLE operator;--",
    "１２３",
    "../../etc/passwd",
    "titulaire@pharmacie.mssante.fr",
]
#: Pages whose forms are fuzzed; the modules' settings pages are added from the registry.
PAGES = ["/modules", "/fournisseurs", "/certificat", "/exploitation", "/plugins/mssante/", "/plugins/psc/"]
#: Forms left out: signing out ends the session under test, fetching the mailboxes reaches the network.
LEFT_OUT = {"/deconnexion", "/plugins/psc/deconnexion", "/plugins/psc/quitter", "/plugins/mssante/relever"}


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (found.get("method") or "get").lower() == "post":
            self.forms.append(Form(found.get("action") or ""))
        elif not self.forms:
            return
        elif tag in ("input", "textarea") and found.get("name") and found.get("name") != "csrf_token":
            name = str(found["name"])
            if found.get("type") == "file":
                self.forms[-1].files.add(name)
            else:
                self.forms[-1].fields.setdefault(name, []).append(found.get("value") or "")
        elif tag == "select" and found.get("name"):
            self._select = str(found["name"])
            self.forms[-1].fields.setdefault(self._select, [])
        elif tag == "option" and self._select is not None:
            self.forms[-1].fields[self._select].append(found.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1)


@pytest.fixture
def admin(lgo_database_url: str) -> Iterator[tuple[Any, Kernel, Seeded]]:
    from lgo_mssante import accounts
    from lgo_web import create_app

    kernel = Kernel(lgo_database_url, discover_installed=True)
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        seeded = seed(session)
    for info in kernel.registry.loaded():
        if info.wave == 1 or info.name in ("psc", "mssante"):
            kernel.enable(seeded.pharmacy_id, info.name, with_dependencies=True)
    kernel.select_provider(seeded.pharmacy_id, "mssante", "organisationnelle")
    accounts.add_organisational(
        kernel, seeded.pharmacy_id, address="officine@pharmacie.mssante.fr", login="officine", password="secret"
    )
    client = create_app(kernel, secure_cookies=False).test_client()
    token = _token(client.get("/connexion").get_data(as_text=True))
    assert client.post("/connexion", data={"code": "titulaire", "password": PASSWORD, "csrf_token": token}).status_code
    try:
        yield client, kernel, seeded
    finally:
        kernel.close()


def _forms(client: Any, kernel: Kernel) -> list[Form]:
    pages = PAGES + [
        f"/parametres/{i.name}" for i in kernel.registry.loaded() if i.manifest and i.manifest.settings is not None
    ]
    forms: list[Form] = []
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        forms += [f for f in parser.forms if f.action and f.action not in LEFT_OUT]
    # Ids in addresses: every POST route with a variable part, whatever value a form would put there.
    for rule in client.application.url_map.iter_rules():
        if "POST" in (rule.methods or ()) and rule.arguments and not str(rule).startswith("/static"):
            forms.append(Form(re.sub(r"<[^>]+>", "{id}", str(rule))))
    return forms


def _check(response: Any, what: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code < 500, f"{what}: {response.status_code}\n{page[:600]}"
    assert "Traceback" not in page, what
    if response.status_code == 200:
        assert 'lang="fr"' in page, what


def test_every_form_and_every_id_in_an_address_answers_without_an_error_500(
    admin: tuple[Any, Kernel, Seeded],
) -> None:
    client, kernel, _seeded = admin
    forms = _forms(client, kernel)
    actions = {f.action for f in forms}
    assert {
        "/plugins/mssante/habilitations",
        "/plugins/mssante/boites",
        "/plugins/mssante/boites-nominatives",
    } <= actions
    assert "/exploitation/messages/{id}/relancer" in actions and "/plugins/psc/liaisons/{id}/delier" in actions
    token = _token(client.get("/modules").get_data(as_text=True))

    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.data())
    def submit(data: st.DataObject) -> None:
        form = data.draw(st.sampled_from(forms))
        values = {
            name: data.draw(st.sampled_from([*HOSTILE, *(v for v in ordinary if v)]), label=name)
            for name, ordinary in form.fields.items()
        }
        files = {name: (io.BytesIO(data.draw(st.binary(max_size=64))), "certificat.p12") for name in form.files}
        action = form.action.replace("{id}", quote(data.draw(st.sampled_from(HOSTILE)) or "1", safe=""))
        response = client.post(action, data={**values, **files, "csrf_token": token})
        _check(response, f"POST {action} {values}")

    submit()
    # Still signed in and working after all that.
    _check(client.get("/plugins/mssante/"), "mssante page")
