"""Issue 18's acceptance: the first day of a pharmacy, from an empty ``LGO_HOME``, as its administrator and its
titulaire live it.

``lgo init`` creates the pharmacy and its administrator; ``lgo web`` serves the admin page over HTTPS; in Debian's
Chromium (keyboard first, every page screenshot and checked with axe-core) the administrator signs in, creates the
team, puts the pharmacy in test mode, uploads the PKCS#12 of the test authority once, switches wave 1 on, chooses the
INSi, DMP, MSSanté and ordonnance numérique addresses (sandboxes started here, speaking their real protocols over
mutual TLS) and relieves the organisational mailbox; the titulaire signs in and chooses her password. There is no
counter screen yet: the INSi search, the DMP deposit and the ordonnance numérique retrieval are then made through
the plugins' Python APIs as the titulaire — with the uploaded certificate and nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lgo.demo_data import FINESS
from lgo.identity import OID_TEST
from lgo.testing import _require_or_skip
from segur_helpers import dmp_test_patient

ADMIN_PASSWORD = "premier-jour-admin"
TITULAIRE_PASSWORD = "premier-jour-titulaire"
IDAM = "LGO-LIBRE-TEST"
PHARMACY_BOX = "officine@tilleuls.mssante.fr"
BOX_PASSWORD = "boite-officine"
PRESCRIPTION = "ORDNUM:1:3F8B2N6W4C9H1V7"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGO_")}
    env.update(LGO_HOME=str(home), XDG_CACHE_HOME=str(home.parent / "cache"), **extra)
    return env


def lgo(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgo.cli", *args],
        env=_env(home, **env),
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


@contextmanager
def lgo_web(home: Path, certificate: Path, key: Path) -> Iterator[str]:
    """``lgo web`` over HTTPS on a free port, as the administrator starts it; yields its address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lgo.cli", "web", "--port", "0", "--certificate", str(certificate), "--key", str(key)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "Page d'administration : " in line, line + (process.stderr.read() if process.poll() else "")
        yield line.split(" : ", 1)[1].split(" ")[0].rstrip("/")
    finally:
        process.terminate()
        process.wait(30)


def insi_answers_with_a_test_identity(traits: dict[str, Any], folder: Path) -> Path:
    """The INSi sandbox's CR 00 for the DMP test patient, with the OID of test identities: accepted only because the
    pharmacy is in test mode."""
    folder.mkdir(parents=True, exist_ok=True)
    matricule = traits["matricule_ins"]
    (folder / "CR00_premier_jour.xml").write_text(
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        '<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR>'
        f"<INDIVIDU><INSACTIF><IdIndividu><NumIdentifiant>{matricule[:13]}</NumIdentifiant><Cle>{matricule[13:]}"
        f"</Cle></IdIndividu><OID>{OID_TEST}</OID></INSACTIF><TIQ><NomNaissance>{traits['nomNaissance']}"
        f"</NomNaissance><ListePrenom>{traits['prenom']}</ListePrenom><Sexe>{traits['sexe']}</Sexe>"
        f"<DateNaissance>{traits['dateNaissance']}</DateNaissance><LieuNaissance>{traits['inseeCommune']}"
        "</LieuNaissance></TIQ></INDIVIDU></RESULTAT></soap:Body></soap:Envelope>",
        encoding="utf-8",
    )
    return folder


class Screens:
    """Each page: a checked screenshot and no accessibility violation (axe-core)."""

    def __init__(self, page: Any, folder: Path, axe_script: Path) -> None:
        self.page, self.folder, self.axe_script, self.count = page, folder, axe_script, 0

    def check(self, name: str, *expected: str) -> None:
        from lgo_sandbox import axe
        from lgo_sandbox.browser import screenshot

        self.count += 1
        screenshot(self.page, self.folder, f"{self.count:02d}-{name}", *expected)
        found = axe.violations(self.page, self.axe_script)
        assert found == [], f"{name} : accessibilité\n{axe.report(found)}"


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[dict[str, Any]]:
    from lgo_sandbox.dmp import start_dmp_sandbox
    from lgo_sandbox.eordonnance import start_eordonnance_sandbox
    from lgo_sandbox.insi import start_insi_sandbox
    from lgo_sandbox.mss.mailserver import available, start_mail_sandbox
    from lgo_sandbox.pki import TestAuthority

    reason = available()
    if reason:
        _require_or_skip(f"{reason} : premier jour de l'officine ignoré")
    authority = TestAuthority(tmp_path / "pki")
    traits = dmp_test_patient()
    insi, _ = start_insi_sandbox(
        authority,
        responses_dir=insi_answers_with_a_test_identity(traits, tmp_path / "insi"),
        known_idams=frozenset({IDAM}),
    )
    dmp, dmp_sandbox = start_dmp_sandbox(authority, seed=18)
    eordonnance, _ = start_eordonnance_sandbox(authority)
    mail = start_mail_sandbox(authority, {PHARMACY_BOX: BOX_PASSWORD})
    try:
        yield {
            "authority": authority,
            "traits": traits,
            "insi": insi.url,
            "dmp": dmp.url,
            "dmp_sandbox": dmp_sandbox,
            "eordonnance": eordonnance.url,
            "mail": mail,
        }
    finally:
        for server in (insi, dmp, eordonnance):
            server.stop()
        mail.stop()


def test_a_pharmacy_sets_itself_up_from_nothing_on_its_first_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandboxes: dict[str, Any]
) -> None:
    from lgo_sandbox import axe
    from lgo_sandbox.browser import BrowserUnavailable, chromium_page, screenshots_dir

    try:
        axe_script = axe.ensure_installed()
    except axe.AxeUnavailable as exc:
        _require_or_skip(f"axe-core indisponible ({exc}) : premier jour de l'officine ignoré")
    home = tmp_path / "home"
    assert not home.exists()

    init = lgo(
        home,
        "init",
        "--name",
        "Pharmacie des Tilleuls",
        "--finess",
        FINESS,
        "--admin-code",
        "admin",
        "--admin-last-name",
        "Petit",
        "--admin-first-name",
        "Marc",
        LGO_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    assert init.returncode == 0, init.stderr
    assert "Administrateur créé : Marc Petit (code admin)." in init.stdout

    authority = sandboxes["authority"]
    certificate = tmp_path / "tilleuls.p12"
    certificate.write_bytes(
        authority.organisation("INSI-AUTO", finess=FINESS, organisation="PHARMACIE DES TILLEULS").pkcs12("phrase")
    )
    elsewhere = tmp_path / "autre.p12"
    elsewhere.write_bytes(
        authority.organisation("INSI-AUTO", finess="999000011", organisation="AUTRE PHARMACIE").pkcs12("phrase")
    )
    web_server = authority.server("admin")
    folder = screenshots_dir(tmp_path / "ecrans")
    try:
        with lgo_web(home, web_server.cert_path, web_server.key_path) as url, chromium_page() as page:
            screens = Screens(page, folder, axe_script)
            temporary = _administrator_sets_up(page, screens, url, certificate, elsewhere, sandboxes)
            _titulaire_chooses_her_password(page, screens, url, temporary)
    except BrowserUnavailable as exc:
        _require_or_skip(f"{exc} : premier jour de l'officine ignoré")
    assert screens.count >= 16

    monkeypatch.setenv("LGO_HOME", str(home))
    monkeypatch.delenv("LGO_DATABASE_URL", raising=False)
    monkeypatch.delenv("LGO_SECRET_KEY", raising=False)
    _titulaire_at_the_counter(sandboxes)


def _sign_in(page: Any, url: str, code: str, password: str) -> None:
    from lgo_sandbox.browser import type_where_focused

    page.goto(f"{url}/")
    page.wait_for_url("**/connexion")
    type_where_focused(page, code)  # the code field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def _administrator_sets_up(
    page: Any, screens: Screens, url: str, certificate: Path, elsewhere: Path, sandboxes: dict[str, Any]
) -> str:
    from lgo_sandbox.browser import activate, keyboard_fill, type_where_focused

    page.goto(f"{url}/")
    screens.check("connexion", "Connexion", "Pharmacie des Tilleuls", FINESS)
    _sign_in(page, url, "admin", ADMIN_PASSWORD)
    page.wait_for_url("**/modules")

    # The team, on the page.
    activate(page, "link", "Équipe")
    page.wait_for_url("**/equipe")
    screens.check("equipe", "Équipe", "Marc Petit", "administrateur")
    temporary: dict[str, str] = {}
    for code, last, first, role, rpps in (
        ("cdurand", "Durand", "Claire", "titulaire", "99999000013"),
        ("plemoine", "Lemoine", "Paul", "pharmacien_adjoint", "99999000021"),
        ("iroux", "Roux", "Inès", "preparateur", ""),
    ):
        activate(page, "link", "Ajouter un opérateur")
        page.wait_for_url("**/equipe/nouveau")
        if code == "cdurand":
            screens.check("nouvel-operateur", "Ajouter un opérateur", "Code de connexion", "Numéro RPPS")
        type_where_focused(page, last)  # the name has the focus
        page.keyboard.press("Tab")
        page.keyboard.type(first)
        page.keyboard.press("Tab")
        page.keyboard.type(code)
        page.select_option("#role", role)
        keyboard_fill(page, "#rpps", rpps)
        page.keyboard.press("Enter")
        page.wait_for_selector("#password-value")
        temporary[code] = page.inner_text("#password-value").strip()
        if code == "cdurand":
            screens.check("mot-de-passe-provisoire", "Opérateur créé", "Claire Durand", "il ne sera plus affiché")
        activate(page, "link", "Retour à l'équipe")
        page.wait_for_url("**/equipe")
    screens.check("equipe-creee", "Claire Durand", "Paul Lemoine", "Inès Roux", "mot de passe provisoire")
    activate(page, "link", "Modifier Claire Durand")
    page.wait_for_selector("#habilitations")
    screens.check("fiche-operateur", "Habilitations", "Consulter le DMP", "Donner un mot de passe provisoire")

    # Test mode.
    activate(page, "link", "Officine")
    page.wait_for_url("**/officine")
    page.focus("#mode-0")
    page.keyboard.press("Space")
    activate(page, "button", "Enregistrer")
    page.wait_for_selector("#test-mode-banner")
    screens.check("officine-mode-test", "Mode test", "plateformes nationales de test", FINESS)

    # The certificate: another pharmacy's first (held back with its warning), then the right one.
    activate(page, "link", "Certificat")
    page.wait_for_url("**/certificat")
    screens.check("certificat-absent", "Aucun certificat n'est enregistré", "IGC-Santé")
    page.set_input_files("#file", str(elsewhere))
    keyboard_fill(page, "#passphrase", "phrase")
    page.keyboard.press("Enter")
    page.wait_for_selector("#certificate-warnings")
    screens.check(
        "certificat-avertissement", "Ce certificat demande votre attention", "(999000011) n'est pas celui de l'officine"
    )
    page.set_input_files("#file", str(certificate))
    keyboard_fill(page, "#passphrase", "phrase")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Certificat enregistré")
    screens.check(
        "certificat",
        f"PHARMACIE DES TILLEULS, FINESS {FINESS}, INSI-AUTO",
        "IGC-Santé, autorité de test",
        "Déposé le",
    )
    assert "CN=" not in page.inner_text("body")

    # Wave 1: the project's modules only.
    activate(page, "link", "Modules")
    activate(page, "button", "Activer les modules Ségur de la vague 1")
    page.wait_for_selector("text=Modules de la vague 1 activés")
    for name in ("ins", "dmp", "mssante", "eordonnance", "entretiens"):
        assert page.inner_text(f"#module-{name} .state") == "actif", name
    assert page.inner_text("#module-rappels .state") == "désactivé"
    screens.check("modules-vague-1", "Modules de la vague 1 activés", "module tiers")

    # Providers: the ordonnance numérique's transport and the organisational mailbox.
    activate(page, "link", "Fournisseurs")
    for capability, provider in (("eordonnance", "json"), ("mssante", "organisationnelle")):
        page.select_option(f"#provider-{capability}", provider)
        page.focus(f"#capability-{capability} button")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"text=Fournisseur « {provider} » choisi")

    # The addresses of the national services (the sandboxes), chosen on each module's settings page.
    page.goto(f"{url}/parametres/ins")
    screens.check(
        "parametres-ins", "Adresse du téléservice INSi", "Adresses connues", "qualiflps-services-ps-tlsm.ameli.fr"
    )
    keyboard_fill(page, "#insi_endpoint", sandboxes["insi"])
    keyboard_fill(page, "#authorisation_number", IDAM)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Paramètres de « INS » enregistrés.")

    page.goto(f"{url}/parametres/dmp")
    keyboard_fill(page, "#endpoint", "dmp test")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=« dmp test » n'est pas une adresse")
    screens.check("parametres-dmp-erreur", "Documents envoyés automatiquement au DMP", "Note de vaccination")
    keyboard_fill(page, "#endpoint", sandboxes["dmp"])
    page.keyboard.press("Enter")
    page.wait_for_selector("text=enregistrés.")

    mail = sandboxes["mail"]
    page.goto(f"{url}/parametres/mssante")
    for field, value in (
        ("#smtp_host", "127.0.0.1"),
        ("#smtp_port", str(mail.smtp_port)),
        ("#imap_host", "127.0.0.1"),
        ("#imap_port", str(mail.imap_port)),
    ):
        keyboard_fill(page, field, value)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=enregistrés.")

    page.goto(f"{url}/parametres/eordonnance")
    keyboard_fill(page, "#endpoint", sandboxes["eordonnance"])
    page.keyboard.press("Enter")
    page.wait_for_selector("text=enregistrés.")
    screens.check("parametres-ordonnance", "Adresse du service de l'ordonnance numérique", "enregistrés")

    # The organisational mailbox, relieved with the uploaded certificate.
    page.goto(f"{url}/plugins/mssante/")
    page.fill("form[action$='/boites'] input[name=address]", PHARMACY_BOX)
    page.fill("form[action$='/boites'] input[name=password]", BOX_PASSWORD)
    page.focus("form[action$='/boites'] button")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Boîte organisationnelle {PHARMACY_BOX} enregistrée")
    activate(page, "button", "Relever les boîtes maintenant")
    page.wait_for_selector("text=0 message(s) intégré(s)")
    assert "non relevée" not in page.inner_text("body")

    activate(page, "link", "Exploitation")
    screens.check("exploitation", "Journal d'audit", "Opérateur créé : Claire Durand", "Marc Petit")
    assert "UTC" not in page.inner_text("body")
    activate(page, "button", "Se déconnecter")
    page.wait_for_url("**/connexion")
    return temporary["cdurand"]


def _titulaire_chooses_her_password(page: Any, screens: Screens, url: str, temporary: str) -> None:
    from lgo_sandbox.browser import type_where_focused

    _sign_in(page, url, "cdurand", temporary)
    page.wait_for_url("**/mot-de-passe")
    screens.check("choisir-mot-de-passe", "Choisir votre mot de passe", "mot de passe provisoire")
    type_where_focused(page, temporary)  # the current password has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(TITULAIRE_PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(TITULAIRE_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/comptoir/")  # the titulaire lands at the counter
    screens.check("titulaire-connectee", "Votre mot de passe est enregistré.", "Claire Durand", "Mode test")


def _titulaire_at_the_counter(sandboxes: dict[str, Any]) -> None:
    """No counter screen yet (another issue): the titulaire's three calls through the plugins' Python APIs."""
    from lgo.counter import Counter
    from lgo.domain import certificates
    from lgo.domain.patients import create_patient
    from lgo.domain.pharmacy import authenticate, get_pharmacy
    from lgo.kernel import Kernel
    from lgo.worker import Worker
    from lgo_dmp import service as dmp
    from lgo_entretiens import service as entretiens
    from lgo_eordonnance import service as eordonnance
    from lgo_ins import api as ins
    from lgo_ins import counter as ins_counter

    traits = sandboxes["traits"]
    kernel = Kernel().start()
    try:
        with kernel.transaction() as session:
            pharmacy = get_pharmacy(session).id
            titulaire = authenticate(session, pharmacy, "cdurand", TITULAIRE_PASSWORD)
            assert titulaire is not None
            titulaire_id = titulaire.id
            assert certificates.get(session, pharmacy) is not None  # uploaded once, on the page
            patient = create_patient(
                session,
                pharmacy,
                birth_name=traits["nomNaissance"],
                first_names=traits["prenom"],
                sex=traits["sexe"],
                birth_date=traits["dateNaissance"],
                birth_place_code=traits["inseeCommune"],
            ).id
        for name in ("ins", "dmp", "mssante", "eordonnance"):  # nothing but addresses: no file, no authority
            values = kernel.plugin_settings(pharmacy, name).model_dump()
            assert not any(k.endswith("_path") and v for k, v in values.items()), (name, values)

        # INSi: a search with the patient's traits; the test identity is accepted (test mode), then qualified.
        (action,) = Counter(kernel, pharmacy, titulaire_id).select_patient(patient, source="vitale")
        assert action.kind == "ins.insi_result", action.message_fr
        assert ins_counter.accept(kernel, pharmacy, patient, titulaire_id, action.data["identity"]) == (
            ins.Status.RECUPEREE
        )
        assert ins.record_identity_document(kernel, pharmacy, patient, titulaire_id, ins.DocumentKind.CNI) == (
            ins.Status.QUALIFIEE
        )

        # DMP: an interview report deposited in the patient's DMP.
        record = entretiens.record_interview(
            kernel,
            pharmacy,
            patient,
            titulaire_id,
            theme_code="AVK",
            held_on=date.today(),
            analysis="INR stable.",
            recommendations="Poursuivre.",
        )
        assert entretiens.validate_document(kernel, pharmacy, record, titulaire_id) == []
        worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy)
        for _ in range(10):
            if not worker.drain():
                break
        deposited = dmp.list_documents(kernel, pharmacy, titulaire_id, patient)
        assert [entry.type_code for entry in deposited] == ["78601-2"]
        assert sum(sandboxes["dmp_sandbox"].registrations.values()) == 1

        # Ordonnance numérique: the prescription retrieved from its base.
        got = eordonnance.retrieve(kernel, pharmacy, titulaire_id, patient, PRESCRIPTION)
        assert got.prescription.identifier == "3F8B2N6W4C9H1V7" and got.prescription.lines
    finally:
        kernel.close()
