"""The counter with Flask's test client, the kernel alone and a plugin without templates: landing after sign-in,
search, lines by name, CIP13, GS1 scan and act code, validation exactly once, bad input in French, a second tab,
a session that expired mid-billing, and an action rendered generically and answered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lgo import gs1, hookimpl
from lgo.actions import ActionRequired, Choice
from lgo.demo_data import PASSWORD, Seeded, cip13, seed
from lgo.domain.billing import Invoice
from lgo.events import ActionAnswered, BillingStarted
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from sqlalchemy import func, select
from web_fakes import csrf_token, https_client, sign_in, text


class Untemplated:
    """A plugin with an action and no window: the counter renders it from its title, message and choices."""

    MANIFEST = Manifest(name="sanspage", plugin_api=">=2.1,<3", label_fr="Sans gabarit")

    def __init__(self) -> None:
        self.answers: list[ActionAnswered] = []

    @hookimpl
    def lgo_on_billing_start(self, kernel: Kernel, event: BillingStarted) -> ActionRequired | None:
        if event.patient_id is None:
            return None
        return ActionRequired(
            "sanspage.question",
            "sanspage",
            "Proposer le <b>rappel</b> ?",
            "Le patient <script>alert(1)</script> a un rappel dû.",
            patient_id=event.patient_id,
            choices=(Choice("oui", "Oui, le proposer"), Choice("non", "Non")),
        )

    @hookimpl
    def lgo_on_action_answered(self, kernel: Kernel, event: ActionAnswered) -> None:
        self.answers.append(event)


@pytest.fixture
def world(lgo_database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Kernel, Seeded, Untemplated]]:
    from lgo_web import create_app

    plugin = Untemplated()
    kernel = Kernel(lgo_database_url, discover_installed=False, extra_plugins=[plugin])
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        seeded = seed(session)
    kernel.enable(seeded.pharmacy_id, "sanspage")
    try:
        yield create_app(kernel), kernel, seeded, plugin
    finally:
        kernel.close()


@pytest.fixture
def ins_and_vaccination(lgo_database_url: str) -> Iterator[tuple[Flask, Kernel, Seeded]]:
    """The counter with the real ins and vaccination plugins switched on (no INSi configured)."""
    import lgo_ins.plugin
    import lgo_vaccination.plugin
    from lgo_web import create_app

    kernel = Kernel(lgo_database_url, discover_installed=False, extra_plugins=[lgo_ins.plugin, lgo_vaccination.plugin])
    kernel.upgrade_database()
    kernel.start()
    try:
        with kernel.transaction() as session:
            seeded = seed(session)
        for name in ("ins", "vaccination"):
            kernel.enable(seeded.pharmacy_id, name)
        yield create_app(kernel), kernel, seeded
    finally:
        kernel.close()


def _open(app: Flask, code: str, patient_id: int) -> tuple[Any, str]:
    """``code`` signed in, the patient's billing open: the client and the billing's address."""
    client = https_client(app)
    sign_in(client, code, PASSWORD)
    home = client.get("/comptoir/").get_data(as_text=True)
    opened = client.post("/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": patient_id})
    return client, opened.headers["Location"]


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "no version on the page"
    return found.group(1)


def _invoices(kernel: Kernel) -> int:
    with kernel.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)


def _post(client: Any, page: str, action: str, **data: Any) -> Any:
    html = client.get(page).get_data(as_text=True)
    return client.post(action, data={"csrf_token": csrf_token(html), "version": _version(html), **data})


def test_a_preparer_bills_at_the_counter_with_every_kind_of_line(world: Any) -> None:
    app, kernel, seeded, plugin = world
    client = https_client(app)
    landed = sign_in(client, "preparatrice", PASSWORD)
    assert landed.headers["Location"].endswith("/comptoir/")  # not the admin pages
    found = text(client.get("/comptoir/?q=martin-d cam"))
    assert "MARTIN-DÉMO" in found and "CAMILLE ANNE" in found
    assert "BERNARD" not in found
    assert "14/03/1985" in text(client.get("/comptoir/recherche?q=14/03/1985"))
    # The kernel's search (decision 0013): a partial birth date with a name; what cannot be searched, in French.
    assert "CAMILLE ANNE" in text(client.get("/comptoir/recherche?q=03/1985 cam"))
    refused = client.get("/comptoir/recherche?q=31/02/1985").get_data(as_text=True)
    assert 'role="alert"' in refused and "Date de naissance invalide : « 31/02/1985 »" in refused
    assert "Date de naissance invalide" in text(client.get("/comptoir/?q=31/02/1985"))

    home = client.get("/comptoir/").get_data(as_text=True)
    opened = client.post(
        "/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": seeded.patients["camille"]}
    )
    page = opened.headers["Location"]
    screen = text(client.get(page))
    # The plugin without templates: its action in the generic window, escaped, one key per choice.
    assert "Proposer le <b>rappel</b> ?" in screen
    raw = client.get(page).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw and "&lt;script&gt;" in raw
    assert 'data-key="1"' in raw and "Oui, le proposer" in screen
    action_url = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw)
    assert action_url
    client.post(action_url.group(1).replace("&amp;", "&"), data={"csrf_token": csrf_token(raw), "choice": "oui"})
    assert [a.choice for a in plugin.answers] == ["oui"] and plugin.answers[0].plugin == "sanspage"
    assert "Proposer le" not in text(client.get(page))

    scan = gs1.element_string(
        seeded.products["amoxicilline"], expiry=date.today() + timedelta(days=600), lot="AM24C", serial="SN0001"
    )
    for entry in ("sérum", "2*" + seeded.products["paracetamol"], scan):
        _post(client, page, page + "/lignes", entry=entry)
    screen = text(client.get(page))
    assert "SÉRUM PHYSIOLOGIQUE" in screen and "PARACÉTAMOL" in screen
    assert re.search(r"AM24C <span[^>]*>\(scan", screen) and "n° série SN0001" in screen
    assert re.search(r"PA24A <span[^>]*>\(proposé", screen)  # the lot proposed when the box was not scanned

    # Bad input: a malformed scan, an unknown CIP13, an unknown name — French messages, the draft intact.
    for entry, message in (
        ("01034009300001" + "\x1d10", "Code Datamatrix"),
        (cip13("9999999"), "Produit inconnu"),
        ("3400930000282", "clé de contrôle"),
        ("zzzz inconnu", "Aucun produit ni acte"),
        (
            "01" + "0" + seeded.products["grippe"] + "17" + (date.today() - timedelta(days=3)).strftime("%y%m%d"),
            "périmée",
        ),
    ):
        shown = text(client.get(_post(client, page, page + "/lignes", entry=entry).headers["Location"]))
        assert message in shown, entry
    assert text(client.get(page)).count("Retirer") == 3

    # Listed medicines without a prescription are refused at validation, in French, nothing written.
    before = _invoices(kernel)
    refused = text(client.get(_post(client, page, page + "/valider").headers["Location"]))
    assert "sans ordonnance" in refused and _invoices(kernel) == before
    _post(
        client, page, page + "/entete", prescriber="Dr Aline Fabre", date=date.today().strftime("%d/%m/%Y"), renewal="1"
    )
    assert "renouvellement n° 1" in text(client.get(page))

    # A second tab shows the same billing; a change made there on an old version is refused, nothing lost.
    stale_html = client.get(page).get_data(as_text=True)
    _post(client, page, page + "/lignes", entry="metformine")
    stale = client.post(
        page + "/lignes", data={"csrf_token": csrf_token(stale_html), "version": _version(stale_html), "entry": "sérum"}
    )
    assert "modifiée entre-temps" in text(client.get(stale.headers["Location"]))
    assert text(client.get(page)).count("Retirer") == 4

    # Validation by one key; the double submit bills once.
    html = client.get(page).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "version": _version(html)}
    first = client.post(page + "/valider", data=form)
    second = client.post(page + "/valider", data=form)
    assert _invoices(kernel) == before + 1
    final = text(client.get(second.headers["Location"]))
    assert "validée" in final and ("déjà validée" in final or "modifiée entre-temps" in final)
    assert first.status_code == 302


def test_a_session_that_expires_mid_billing_comes_back_to_the_same_billing(world: Any) -> None:
    app, _kernel, seeded, _plugin = world
    client = https_client(app)
    sign_in(client, "adjoint", PASSWORD)
    home = client.get("/comptoir/").get_data(as_text=True)
    page = client.post(
        "/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": seeded.patients["jean"]}
    ).headers["Location"]
    _post(client, page, page + "/lignes", entry="sérum")
    html = client.get(page).get_data(as_text=True)
    with client.session_transaction() as session:
        session.clear()  # the session ended (idle time-out, server restarted with another key...)
    expired = client.post(
        page + "/lignes", data={"csrf_token": csrf_token(html), "version": _version(html), "entry": "x"}
    )
    assert "/connexion" in expired.headers["Location"] and "next=" in expired.headers["Location"]
    login = client.get(expired.headers["Location"]).get_data(as_text=True)
    back = client.post(
        expired.headers["Location"], data={"code": "adjoint", "password": PASSWORD, "csrf_token": csrf_token(login)}
    )
    assert back.headers["Location"].endswith(page.split("localhost")[-1])
    assert "SÉRUM PHYSIOLOGIQUE" in text(client.get(page))


def test_patient_creation_refuses_bad_traits_in_french_and_the_admin_lands_on_the_admin_pages(world: Any) -> None:
    app, _kernel, _seeded, _plugin = world
    client = https_client(app)
    assert sign_in(client, "admin", PASSWORD).headers["Location"].endswith("/modules")
    client = https_client(app)
    sign_in(client, "titulaire", PASSWORD)
    form = client.get("/comptoir/patients/nouveau").get_data(as_text=True)
    bad = {"birth_name": "DUPONT", "first_names": "JEAN", "sex": "M", "birth_date": "31/02/1990", "nir": "1234"}
    refused = client.post("/comptoir/patients/nouveau", data={"csrf_token": csrf_token(form), **bad})
    assert refused.status_code == 400 and "Date de naissance invalide" in text(refused)
    refused = client.post(
        "/comptoir/patients/nouveau", data={"csrf_token": csrf_token(form), **bad, "birth_date": "01/02/1990"}
    )
    assert (refused.status_code == 400 and "matricule" in text(refused).lower()) or "NIR" in text(refused)
    created = client.post(
        "/comptoir/patients/nouveau",
        data={
            "csrf_token": csrf_token(form),
            **bad,
            "birth_date": "01/02/1990",
            "nir": "",
            "birth_place_code": "75056",
        },
    )
    assert created.status_code == 302 and "DUPONT" in text(client.get(created.headers["Location"]))


def test_a_vendor_plugin_s_window_is_shown_and_answered(lgo_database_url: str) -> None:
    """The example third-party plugin (examples/lgo-exemple-rappels) brings its own window, as a vendor would."""
    import lgo_exemple_rappels.plugin as rappels
    from lgo_exemple_rappels.model import reminders  # the table, out of the light entry module
    from lgo_web import create_app

    kernel = Kernel(lgo_database_url, discover_installed=False, extra_plugins=[rappels])
    kernel.upgrade_database()
    kernel.start()
    try:
        with kernel.transaction() as session:
            seeded = seed(session)
        kernel.enable(seeded.pharmacy_id, "rappels")
        client = https_client(create_app(kernel))
        sign_in(client, "titulaire", PASSWORD)
        home = client.get("/comptoir/").get_data(as_text=True)
        page = client.post(
            "/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": seeded.patients["camille"]}
        ).headers["Location"]
        _post(client, page, page + "/entete", prescriber="Dr Vaccin", renewal="0")
        _post(client, page, page + "/lignes", entry=seeded.products["grippe"])
        _post(client, page, page + "/valider")
        raw = client.get(page).get_data(as_text=True)
        assert "Proposer un rappel de vaccination ?" in text(client.get(page))
        assert (
            'class="window rappels"' in raw
            and 'data-key="O"' in raw
            and "Oui, le patient accepte" in text(client.get(page))
        )
        with kernel.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(reminders)).scalar() == 1
        answer = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw)
        assert answer
        client.post(answer.group(1), data={"csrf_token": csrf_token(raw), "choice": "non"})
        with kernel.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(reminders)).scalar() == 0
        assert "Proposer un rappel" not in text(client.get(page))
    finally:
        kernel.close()


def test_malformed_scans_and_an_absent_card_get_french_messages_in_their_window(lgo_database_url: str) -> None:
    """The real ins, cards and eordonnance plugins, no service: a bad INS Datamatrix, a bad Appli carte Vitale QR
    code, a bad ordonnance numérique QR code and a carte Vitale read without a reader each say what happened, in
    French, and the counter goes on."""
    import lgo_cards.plugin
    import lgo_eordonnance.plugin
    import lgo_ins.plugin
    from lgo_web import create_app

    kernel = Kernel(
        lgo_database_url,
        discover_installed=False,
        extra_plugins=[lgo_ins.plugin, lgo_cards.plugin, lgo_eordonnance.plugin],
    )
    kernel.upgrade_database()
    kernel.start()
    try:
        with kernel.transaction() as session:
            seeded = seed(session)
        for name in ("ins", "cards", "eordonnance"):
            kernel.enable(seeded.pharmacy_id, name)
        client = https_client(create_app(kernel))
        sign_in(client, "adjoint", PASSWORD)
        home = client.get("/comptoir/").get_data(as_text=True)
        assert 'data-key="F6"' in home and 'data-key="Alt+I"' in home and 'data-key="F3"' not in home  # F3: a patient
        page = client.post(
            "/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": seeded.patients["camille"]}
        ).headers["Location"]
        while "Plus tard" in (raw := client.get(page).get_data(as_text=True)):  # the INS window: later
            later = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw)
            assert later
            client.post(later.group(1), data={"csrf_token": csrf_token(raw), "choice": "later"})
        for command, code, message in (
            ("ins.scan_datamatrix", "PAS UN DATAMATRIX", "Datamatrix"),
            ("cards.scan_apcv", "\x01\x02", "appli carte Vitale"),
            ("eordonnance.scan", "QR-CODE-D'UN-AUTRE-DOCUMENT", "ordonnance"),
        ):
            raw = client.get(page).get_data(as_text=True)
            client.post(f"{page}/commande/{command}", data={"csrf_token": csrf_token(raw)})
            raw = client.get(page).get_data(as_text=True)
            answer = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw)
            assert answer, command
            client.post(answer.group(1), data={"csrf_token": csrf_token(raw), "choice": "scan", "code": code})
            shown = text(client.get(page))
            assert 'role="alert"' in shown and message in shown, (command, shown[-3000:])
            raw = client.get(page).get_data(as_text=True)
            later = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw)
            assert later
            client.post(later.group(1), data={"csrf_token": csrf_token(raw), "choice": "later"})
        raw = client.get(page).get_data(as_text=True)
        read = client.post(f"{page}/commande/cards.read_vitale", data={"csrf_token": csrf_token(raw)})
        shown = text(client.get(read.headers["Location"]))
        assert 'class="flash error"' in shown and ("lecteur" in shown.lower() or "carte" in shown.lower())
    finally:
        kernel.close()


def test_insi_down_the_counter_goes_on_says_a_retry_is_queued_and_the_status_bar_shows_it(
    lgo_database_url: str, tmp_path: Path
) -> None:
    """The ins plugin pointed at an INSi that does not answer: selecting the patient shows the generic window
    « Téléservice INSi indisponible », the billing goes on and validates, the status bar says INSi is down and that a
    search waits in the outbox for this patient."""
    import lgo_ins.plugin
    from lgo_web import create_app

    kernel = Kernel(lgo_database_url, discover_installed=False, extra_plugins=[lgo_ins.plugin])
    kernel.upgrade_database()
    kernel.start()
    try:
        with kernel.transaction() as session:
            seeded = seed(session)
        kernel.enable(seeded.pharmacy_id, "ins")
        from lgo_sandbox.pki import TestAuthority

        TestAuthority(tmp_path / "pki").organisation("INSI-AUTO").store_for(kernel, seeded.pharmacy_id, kind="insi")
        kernel.save_plugin_settings(
            seeded.pharmacy_id,
            "ins",
            {"insi_endpoint": "https://127.0.0.1:9/insi", "timeout_seconds": 1},  # nothing listens: INSi is down
        )
        client = https_client(create_app(kernel))
        sign_in(client, "preparatrice", PASSWORD)
        home = client.get("/comptoir/").get_data(as_text=True)
        page = client.post(
            "/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": seeded.patients["jean"]}
        ).headers["Location"]
        screen = text(client.get(page))
        assert "Téléservice INSi indisponible" in screen
        assert "svc-down" in screen and "INSi</strong> : indisponible" in screen
        assert "1 en attente pour ce patient" in screen
        raw = client.get(page).get_data(as_text=True)
        answer = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw)
        assert answer
        client.post(answer.group(1), data={"csrf_token": csrf_token(raw), "choice": "ok"})
        _post(client, page, page + "/lignes", entry="sérum")
        _post(client, page, page + "/valider")
        assert "validée" in text(client.get(page))
    finally:
        kernel.close()


def test_stock_refusal_then_the_pharmacist_s_reasoned_override(world: Any) -> None:
    app, kernel, seeded, _plugin = world
    client = https_client(app)
    sign_in(client, "preparatrice", PASSWORD)
    home = client.get("/comptoir/").get_data(as_text=True)
    page = client.post(
        "/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": seeded.patients["jean"]}
    ).headers["Location"]
    _post(client, page, page + "/entete", prescriber="Dr Douleur")
    _post(client, page, page + "/lignes", entry="2*tramadol")  # one box in stock
    before = _invoices(kernel)
    refused = text(client.get(_post(client, page, page + "/valider").headers["Location"]))
    assert "Aucun stock disponible" in refused or "insuffisant" in refused.lower()
    assert 'class="refused' in refused and _invoices(kernel) == before
    assert "un pharmacien habilité peut forcer" in refused  # the préparatrice sees no button she cannot use
    denied = text(client.get(_post(client, page, page + "/lignes/0/forcer", reason="réserve").headers["Location"]))
    assert "seul un pharmacien habilité" in denied
    pharmacist = https_client(app)  # the pharmacist comes to the same counter, same billing
    sign_in(pharmacist, "titulaire", PASSWORD)
    assert "Forcer la vente (pharmacien)" in text(pharmacist.get(page))
    empty = text(pharmacist.get(_post(pharmacist, page, page + "/lignes/0/forcer", reason="").headers["Location"]))
    assert "Indiquez le motif" in empty
    _post(pharmacist, page, page + "/lignes/0/forcer", reason="boîtes en réserve non réceptionnées")
    assert "vente forcée : boîtes en réserve non réceptionnées" in text(pharmacist.get(page))
    _post(pharmacist, page, page + "/valider")
    assert _invoices(kernel) == before + 1
    with kernel.transaction() as session:
        from lgo.domain.audit import AuditEntry

        forced = session.scalars(select(AuditEntry).where(AuditEntry.action == "stock.forced_sale")).all()
        assert len(forced) == 1 and "boîtes en réserve" in forced[0].message_fr


def test_an_unqualified_patient_s_vaccination_shows_the_ins_window_before_the_note(ins_and_vaccination: Any) -> None:
    app, _kernel, seeded = ins_and_vaccination
    client, page = _open(app, "preparatrice", seeded.patients["camille"])
    raw = client.get(page).get_data(as_text=True)
    assert "Qualifier l'identité du patient" in text(client.get(page))  # no INSi configured: the document
    later = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw)
    assert later
    client.post(later.group(1), data={"csrf_token": csrf_token(raw), "choice": "later"})
    box = gs1.element_string(seeded.products["grippe"], expiry=date.today() + timedelta(days=150), lot="VGD24-117")
    for entry in (box, "VGP"):
        _post(client, page, page + "/lignes", entry=entry)
    _post(client, page, page + "/valider")
    screen = text(client.get(page))
    assert screen.index("Qualifier l'identité du patient") < screen.index("autre(s) fenêtre(s) ensuite")
    assert "sera envoyée au DMP quand l'identité sera qualifiée" in screen
    raw = client.get(page).get_data(as_text=True)
    answer = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw)
    assert answer
    client.post(answer.group(1), data={"csrf_token": csrf_token(raw), "choice": "1"})  # carte d'identité
    screen = text(client.get(page))
    assert "Vérifier la note de vaccination" in screen and "VGD24-117" in screen
    assert "Identité validée" in screen  # a document without INSi: validée, not qualifiée


def test_an_operator_with_a_temporary_password_chooses_theirs_before_working_at_the_counter(world: Any) -> None:
    app, kernel, seeded, _plugin = world
    from lgo.domain.pharmacy import Operator

    with kernel.transaction() as session:
        operator = session.get(Operator, seeded.operators["preparatrice"])
        assert operator is not None
        operator.must_change_password = True
    client = https_client(app)
    sign_in(client, "preparatrice", PASSWORD)
    assert (
        "/mot-de-passe" in client.get("/comptoir/").headers.get("Location", "")
        or "mot de passe" in text(client.get("/comptoir/", follow_redirects=True)).lower()
    )
    home = client.get("/comptoir/", follow_redirects=True).get_data(as_text=True)
    refused = client.post(
        "/comptoir/ouvrir", data={"csrf_token": csrf_token(home), "patient_id": seeded.patients["jean"]}
    )
    assert refused.status_code == 302 and "/comptoir/f/" not in refused.headers["Location"]


def test_windows_write_dates_in_french() -> None:
    from lgo_web.counter.windows import date_fr

    assert date_fr("1936-06-21") == "21/06/1936"
    assert date_fr("1979-00-00") == "??/??/1979"
    assert date_fr("pas une date") == "pas une date" and date_fr(None) == ""


def test_an_act_with_two_fees_is_a_choice_and_the_rva_at_9_60_is_billed_at_9_60(ins_and_vaccination: Any) -> None:
    """REMU NUM counts the RVA acts billed 9,60 € (decision 1502): the counter must let the pharmacist bill it."""
    app, kernel, seeded = ins_and_vaccination
    client, page = _open(app, "titulaire", seeded.patients["jean"])
    raw = client.get(page).get_data(as_text=True)
    if later := re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', raw):  # the INS window, for later
        client.post(later.group(1), data={"csrf_token": csrf_token(raw), "choice": "later"})
    _post(client, page, page + "/lignes", entry="rva")
    raw = client.get(page).get_data(as_text=True)
    screen = text(client.get(page))
    assert "Quel honoraire pour cet acte ?" in screen and "Retirer" not in screen  # nothing billed yet
    assert "Administration d'un vaccin par le pharmacien — 7,50 €" in screen
    assert "Prescription et administration d'un vaccin par le pharmacien — 9,60 €" in screen
    assert 'value="RVA/prescription"' in raw and 'data-key="2"' in raw

    _post(client, page, page + "/lignes", code="RVA/prescription", quantity="1")
    screen = text(client.get(page))
    assert "Quel honoraire" not in screen and screen.count("Retirer") == 1
    assert "Prescription et administration d'un vaccin par le pharmacien" in screen and "9,60" in screen
    # A tampered choice: a French refusal, the billing unchanged.
    refused = _post(client, page, page + "/lignes", code="RVA/inconnu", quantity="1")
    assert "Tarif « inconnu » inconnu pour l'acte RVA" in text(client.get(refused.headers["Location"]))
    _post(client, page, page + "/lignes", code="RVA/", quantity="1")  # its own fee
    assert text(client.get(page)).count("Retirer") == 2

    _post(client, page, page + "/valider")
    with kernel.transaction() as session:
        from lgo.domain.billing import InvoiceLine

        fees = sorted(session.scalars(select(InvoiceLine.unit_price_cents).where(InvoiceLine.act_code == "RVA")))
    assert fees == [750, 960]
