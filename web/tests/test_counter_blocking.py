"""``lgo_counter_blocking`` at the counter (API 2.5): a plugin's action shown instead of every counter page of the
pharmacy, for every operator, until one answer frees them all; every other post refused meanwhile; a refused
answer shown in the window; a second answer (the other counter was first) changes nothing; another pharmacy is not
blocked; a failing plugin blocks nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from lgo import hookimpl
from lgo.actions import ActionRequired, Choice
from lgo.demo_data import PASSWORD, Seeded, seed
from lgo.domain.pharmacy import Pharmacy
from lgo.errors import ValidationError
from lgo.events import ActionAnswered
from lgo.identifiers import with_luhn
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from web_fakes import csrf_token, https_client, sign_in, text


class Recalls:
    """A plugin whose unread notices block the counters of one pharmacy; reading needs a "yes"."""

    MANIFEST = Manifest(name="avis", plugin_api=">=2.5,<3", label_fr="Avis bloquants")

    def __init__(self) -> None:
        self.unread: dict[int, list[str]] = {}
        self.read_by: list[int] = []
        self.broken = False

    @hookimpl
    def lgo_counter_blocking(self, kernel: Kernel, pharmacy_id: int) -> list[ActionRequired]:
        if self.broken:
            raise RuntimeError("database gone")
        return [
            ActionRequired(
                "avis.lire",
                "avis",
                f"Avis : {title}",
                "Lisez <b>cet</b> avis.",
                choices=(Choice("oui", "Lu"),),
                blocking=True,
                data={"key": title, "counted": len(self.read_by)},  # changes between pages: the key does not
            )
            for title in self.unread.get(pharmacy_id, [])
        ]

    @hookimpl
    def lgo_on_action_answered(self, kernel: Kernel, event: ActionAnswered) -> None:
        if event.choice != "oui":
            raise ValidationError("Répondez « Lu » après avoir lu l'avis.")
        self.unread[event.pharmacy_id].remove(str(event.data["key"]))
        self.read_by.append(event.operator_id)


@pytest.fixture
def world(lgo_database_url: str) -> Iterator[tuple[Flask, Kernel, Seeded, Recalls]]:
    from lgo_web import create_app

    plugin = Recalls()
    kernel = Kernel(lgo_database_url, discover_installed=False, extra_plugins=[plugin])
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        seeded = seed(session)
    kernel.enable(seeded.pharmacy_id, "avis")
    try:
        yield create_app(kernel), kernel, seeded, plugin
    finally:
        kernel.close()


def _answer_url(html: str) -> str:
    found = re.search(r'action="(/comptoir/bloquant/avis/[0-9a-f]+\?next=[^"]*)"', html)
    assert found, html[:3000]
    return found.group(1).replace("&amp;", "&")


def test_a_blocking_action_replaces_every_counter_page_until_one_operator_answers(world: Any) -> None:
    app, _kernel, seeded, plugin = world
    first, second = https_client(app), https_client(app)
    sign_in(first, "titulaire", PASSWORD)
    sign_in(second, "preparatrice", PASSWORD)
    home = first.get("/comptoir/").get_data(as_text=True)
    page = first.post(
        "/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": seeded.patients["camille"]}
    ).headers["Location"]
    assert "Avis" not in text(first.get(page))

    plugin.unread[seeded.pharmacy_id] = ["Rappel du lot X"]
    screens = {}
    for client, url in ((first, page), (second, "/comptoir/"), (second, "/comptoir/patients/nouveau")):
        raw = client.get(url).get_data(as_text=True)
        screens[url] = raw
        assert 'data-blocking="avis.lire"' in raw and "Avis : Rappel du lot X" in raw
        assert "Lisez &lt;b&gt;cet&lt;/b&gt; avis." in raw  # escaped, as every window
        assert 'id="entry"' not in raw and 'id="q"' not in raw and 'class="keys"' not in raw
    html = screens[page]
    refused = first.post(page + "/valider", data={"csrf_token": csrf_token(html), "version": "1"})
    assert refused.status_code == 302
    assert "Le comptoir est bloqué" in text(first.get(page))

    wrong = first.post(_answer_url(html), data={"csrf_token": csrf_token(html), "choice": "non"})
    assert wrong.headers["Location"] == page
    again = first.get(page).get_data(as_text=True)
    assert "Répondez « Lu » après avoir lu l&#39;avis." in again and plugin.read_by == []

    stale = screens["/comptoir/"]  # the second counter's window, shown before the first answered
    mine = second.get("/comptoir/").get_data(as_text=True)
    second.post(_answer_url(mine), data={"csrf_token": csrf_token(mine), "choice": "oui"})
    assert "réponse enregistrée, les comptoirs de l'officine ne sont plus bloqués" in text(second.get("/comptoir/"))
    assert plugin.read_by == [seeded.operators["preparatrice"]]
    for client, url in ((first, page), (second, "/comptoir/")):
        raw = client.get(url).get_data(as_text=True)
        assert "data-blocking" not in raw and 'class="keys"' in raw
    late = second.post(_answer_url(stale), data={"csrf_token": csrf_token(stale), "choice": "oui"})
    assert late.status_code == 302 and "déjà été traité" in text(second.get("/comptoir/"))
    assert plugin.read_by == [seeded.operators["preparatrice"]]  # answered once


def test_the_next_page_stays_on_this_site_and_another_pharmacy_or_a_failing_plugin_blocks_nothing(
    world: Any,
) -> None:
    app, kernel, seeded, plugin = world
    with kernel.transaction() as session:
        other = seed(session, finess=with_luhn("99000002"))
        app.config["LGO_PHARMACY"] = session.get(Pharmacy, seeded.pharmacy_id).finess  # type: ignore[union-attr]
    plugin.unread[other.pharmacy_id] = ["Ailleurs"]
    client = https_client(app)
    sign_in(client, "titulaire", PASSWORD)
    assert "data-blocking" not in client.get("/comptoir/").get_data(as_text=True)

    for target, back in (("https://ailleurs.example/comptoir/", "/comptoir/"), ("//ailleurs.example/x", "/x")):
        plugin.unread[seeded.pharmacy_id] = ["Ici"]
        raw = client.get("/comptoir/").get_data(as_text=True)
        url = _answer_url(raw).split("?")[0] + "?next=" + target
        answered = client.post(url, data={"csrf_token": csrf_token(raw), "choice": "oui"})
        assert answered.headers["Location"] == back  # never another site

    plugin.unread[seeded.pharmacy_id] = ["Encore"]
    plugin.broken = True
    assert "data-blocking" not in client.get("/comptoir/").get_data(as_text=True)
