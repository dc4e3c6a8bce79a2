"""The Annuaire Santé lookup against a FHIR sandbox serving the ANS examples, and the contracts: the plugin's, and
the provider contract each of our two providers passes against the real mail server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import lgo_mssante.plugin
import pytest
from lgo.testing import _require_or_skip
from lgo.testing.cda import shared_dir
from lgo.testing.contracts import PluginContract
from lgo_mssante import annuaire
from lgo_mssante.mailiz import MailizProvider
from lgo_mssante.organisationnelle import OrganisationalProvider, allowed
from lgo_mssante.provider import MailAccount, NotAllowed
from lgo_mssante.testing import MssanteProviderContract
from lgo_sandbox.mss.annuaire import load_examples, start_annuaire_sandbox
from lgo_sandbox.mss.mailserver import MailSandbox, free_port
from lgo_sandbox.pki import TestAuthority
from mss_helpers import DOCTOR_BOX, PASSWORDS, PHARMACIST_BOX, PHARMACY_BOX


class TestMssantePluginContract(PluginContract):
    plugin = lgo_mssante.plugin


@pytest.fixture
def annuaire_url() -> Iterator[str]:
    shared = shared_dir()
    if shared is None:
        _require_or_skip("../shared absent : exemples FHIR de l'Annuaire Santé (MSSanté) introuvables")
    assert shared is not None
    examples = load_examples(shared / "conformance" / "services" / "mss" / "fhir-bal-examples")
    assert examples, "no Practitioner in the shared MSSanté FHIR examples"
    server, _sandbox = start_annuaire_sandbox(examples)
    yield server.url
    server.stop()


def test_search_by_name_rpps_or_mailbox_keeps_the_wanted_mailbox_type(annuaire_url: str) -> None:
    [dupont] = annuaire.search(annuaire_url, name="dupont")
    assert dupont.national_id == "810003456789"
    assert [m.address for m in dupont.mailboxes] == ["jean-marie.dupont@infirmier.mssante.fr"]
    # The IG has two examples of this practitioner (one reduced to its identifier and mailbox).
    by_rpps = annuaire.search(annuaire_url, rpps="10003456789")
    assert dupont in by_rpps and {p.national_id for p in by_rpps} == {"810003456789"}
    by_mailbox = annuaire.search(annuaire_url, mailbox="jean-marie.dupont@infirmier.mssante.fr")
    assert dupont in by_mailbox and {p.national_id for p in by_mailbox} == {"810003456789"}
    assert annuaire.search(annuaire_url, name="dupont", mailbox_type="ORG") == []
    assert annuaire.search(annuaire_url, name="personne-inconnue") == []


def test_the_annuaire_down_says_to_type_the_address() -> None:
    with pytest.raises(annuaire.AnnuaireUnavailable) as down:
        annuaire.search(f"http://127.0.0.1:{free_port()}", name="dupont", timeout=2)
    assert "saisissez" in down.value.message_fr


def test_habilitations_of_the_organisational_mailbox() -> None:
    assert allowed("Utilisateur", "send") and allowed("Utilisateur", "read")
    assert not allowed("Utilisateur", "quarantine") and allowed("Gestionnaire", "quarantine")
    assert allowed("Administrateur", "admin") and not allowed("Gestionnaire", "admin") and not allowed(None, "send")


def _account(sandbox: MailSandbox, credential: Any, address: str, kind: str, **extra: Any) -> MailAccount:
    return MailAccount(
        address=address,
        login=address,
        password=PASSWORDS[address],
        credential=credential.client(),
        ca_path=str(credential.ca_path),
        smtp_host="127.0.0.1",
        smtp_port=sandbox.smtp_port,
        imap_host="127.0.0.1",
        imap_port=sandbox.imap_port,
        timeout=5,
        kind=kind,
        **extra,
    )


def test_each_provider_refuses_the_other_kind_of_mailbox(
    mss_sandbox: MailSandbox, mss_authority: TestAuthority
) -> None:
    organisation = mss_authority.organisation("PHARMACIE DES TILLEULS")
    with pytest.raises(NotAllowed):
        MailizProvider(_account(mss_sandbox, organisation, PHARMACY_BOX, "organisationnelle"))
    with pytest.raises(NotAllowed):
        OrganisationalProvider(_account(mss_sandbox, organisation, PHARMACIST_BOX, "personnelle", rpps="99999000013"))
    user = OrganisationalProvider(
        _account(mss_sandbox, organisation, PHARMACY_BOX, "organisationnelle", operator_id=7, habilitation=None)
    )
    with pytest.raises(NotAllowed):
        user.fetch_new(max_bytes=1000)


class TestMailizContract(MssanteProviderContract):
    provider = "mailiz"

    @pytest.fixture
    def provider_under_test(self, mss_sandbox: MailSandbox, mss_authority: TestAuthority) -> tuple[Any, MailAccount]:
        person = mss_authority.person("99999000013", given_name="Titulaire", surname="TILLEULS")
        account = _account(mss_sandbox, person, PHARMACIST_BOX, "personnelle", rpps="99999000013")
        return MailizProvider(account), replace(account, smtp_port=free_port(), imap_port=free_port())


class TestOrganisationnelleContract(MssanteProviderContract):
    provider = "organisationnelle"

    @pytest.fixture
    def provider_under_test(self, mss_sandbox: MailSandbox, mss_authority: TestAuthority) -> tuple[Any, MailAccount]:
        organisation = mss_authority.organisation("PHARMACIE DES TILLEULS")
        account = _account(mss_sandbox, organisation, PHARMACY_BOX, "organisationnelle")
        return OrganisationalProvider(account), replace(account, smtp_port=free_port(), imap_port=free_port())


def test_a_certificate_from_another_authority_is_refused(mss_sandbox: MailSandbox, tmp_path: Path) -> None:
    from lgo_mssante.provider import MailRefused, MailUnavailable

    stranger = TestAuthority(tmp_path / "other-pki").organisation("INTRUS")
    account = replace(
        _account(mss_sandbox, stranger, DOCTOR_BOX, "organisationnelle"), ca_path=str(mss_sandbox.ca_path)
    )
    with pytest.raises((MailRefused, MailUnavailable)):
        OrganisationalProvider(account).fetch_new(max_bytes=1000)


def test_search_by_town_with_the_fictional_practitioners() -> None:
    """The fictional list of the sandbox (demo) carries towns: a search by town (FHIR ``address-city``) alone or
    with a name, and the RPPS shown without the idNat prefix."""
    server, sandbox = start_annuaire_sandbox()
    try:
        [doctor] = annuaire.search(server.url, town="villedémo")
        assert doctor.name == "Anne MEDECIN-DEMO" and doctor.town == "Villedémo" and doctor.rpps == "99999000047"
        assert [b.address for b in doctor.mailboxes] == ["anne.medecin-demo@medecin.mssante.fr"]
        assert annuaire.search(server.url, name="anne", town="Autreville") == []
        assert sandbox.requests[-1]["address-city"] == ["Autreville"]
    finally:
        server.stop()
