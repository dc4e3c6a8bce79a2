"""Issue 22 end to end with the real plugins and the sandboxes: the patient qualified through the INSi sandbox (ins),
the DMP sandbox over HTTPS with client certificates that checks every CDA with the ANS kit (dmp), a real mail server
(Dovecot and aiosmtpd) for MSSanté (mssante), and the wave-2 plugins (depistage, prevention):

* a positive angine TROD with amoxicilline dispensed reaches the DMP as two linked documents (the eDISP-MED
  dispensation names the BIO-TROD attestation it follows), and the médecin traitant gets nothing;
* with the DMP down past the outbox's retries, the médecin traitant receives the attestation on the mail server;
* a plan personnalisé de prévention reaches both the DMP and the médecin traitant."""

from __future__ import annotations

import imaplib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import lgo_depistage.plugin
import lgo_dmp.plugin
import lgo_ins.plugin
import lgo_mssante.plugin
import lgo_prevention.plugin
import pytest
from lgo.demo_data import Seeded
from lgo.domain.pharmacy import Pharmacy
from lgo.identifiers import nir_key
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo.testing.cda import cda_errors, shared_dir
from lgo.worker import Worker
from lgo_depistage import api as depistage
from lgo_depistage.model import DepistageTest, Fallback
from lgo_dmp import service as dmp
from lgo_mssante import accounts, xdm
from lgo_mssante import message as mail
from lgo_mssante.testing import checked_xdm_archives
from lgo_prevention import api as prevention
from lgo_sandbox.mss.mailserver import available, start_mail_sandbox
from lgo_sandbox.pki import TestAuthority
from lxml import etree
from segur_helpers import dmp_test_patient, qualify

ORG_BOX = "officine@pharmacie-e2e.mssante.fr"
DOCTOR_BOX = "medecin.traitant@medecin-e2e.mssante.fr"
NS = {"hl7": "urn:hl7-org:v3"}
EXPIRY = f"{date.today().year % 100 + 2:02d}1231"
SCAN = "]d20103612345678904" + f"17{EXPIRY}" + "10B987654"
ANGINE = {
    "temperature": "38,8",
    "grossesse": "non",
    "immunodepression": "non",
    "antibiotique_en_cours": "non",
    "signes_complication": "non",
    "retour_pays_tropical": "non",
    "troubles_digestifs": "non",
    "toux_absente": "oui",
    "adenopathies": "oui",
    "amygdales": "oui",
    "allergie_penicilline": "non",
    "contre_indication_cephalosporines": "non",
}
__all__ = ["checked_xdm_archives"]


@pytest.fixture(autouse=True)
def _every_xdm_archive_is_checked(checked_xdm_archives: list[bytes]) -> Iterator[None]:
    yield


@pytest.fixture
def world(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path) -> Iterator[dict[str, Any]]:
    from lgo_sandbox.dmp import start_dmp_sandbox

    reason = available()
    if reason:
        _require_or_skip(f"{reason} : test de bout en bout du dépistage ignoré")
    shared = shared_dir()
    if shared is None:
        _require_or_skip("../shared absent : kit CDA de l'ANS indisponible pour le bac à sable DMP")
    assert shared is not None
    kernel = lgo_make_kernel(
        lgo_ins.plugin, lgo_dmp.plugin, lgo_mssante.plugin, lgo_depistage.plugin, lgo_prevention.plugin
    )
    pharmacy = lgo_seeded.pharmacy_id
    for name in ("ins", "dmp", "mssante", "depistage", "prevention"):
        kernel.enable(pharmacy, name)
    authority = TestAuthority(tmp_path / "pki")
    with kernel.transaction() as session:
        finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
    # One organisation certificate for the DMP and the MSSanté mailbox, stored as the administrator does.
    authority.organisation("PHARMACIE DES TILLEULS", finess=finess).store_for(kernel, pharmacy)
    server, dmp_sandbox = start_dmp_sandbox(
        authority, seed=22, cda_checker=cda_errors, conformance_dir=shared / "conformance"
    )
    kernel.save_plugin_settings(pharmacy, "dmp", {"endpoint": server.url})
    mail_sandbox = start_mail_sandbox(authority, {ORG_BOX: "o", DOCTOR_BOX: "d"})
    kernel.save_plugin_settings(
        pharmacy,
        "mssante",
        {
            "smtp_host": "127.0.0.1",
            "smtp_port": mail_sandbox.smtp_port,
            "imap_host": "127.0.0.1",
            "imap_port": mail_sandbox.imap_port,
            "ca_path": str(authority.ca_path),
        },
    )
    box = accounts.add_organisational(kernel, pharmacy, address=ORG_BOX, login=ORG_BOX, password="o")
    for operator in lgo_seeded.operators.values():
        accounts.set_habilitation(kernel, pharmacy, box, operator, "Utilisateur")
    kernel.select_provider(pharmacy, "mssante", "organisationnelle")
    try:
        yield {
            "kernel": kernel,
            "seeded": lgo_seeded,
            "dmp": dmp_sandbox,
            "mail": mail_sandbox,
            "authority": authority,
            "tmp_path": tmp_path,
        }
    finally:
        mail_sandbox.stop()
        server.stop()


def _drain(kernel: Kernel, pharmacy_id: int) -> None:
    """The worker until nothing is due (a retry after a failure is due at once: no back-off in the tests), then
    the plugins' periodic jobs, then the worker again for what they queued."""
    worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy_id)
    for _ in range(3):
        worker.drain()
        worker.run_periodic(force=True)
    worker.drain()


def _doctor_inbox(world: dict[str, Any]) -> list[xdm.ReceivedDocument]:
    doctor = world["authority"].person("99999000047", given_name="Anne", surname="MEDECIN")
    imap = imaplib.IMAP4("127.0.0.1", world["mail"].imap_port)
    imap.starttls(ssl_context=doctor.client_context())
    imap.login(DOCTOR_BOX, "d")
    imap.select("INBOX")
    _status, found = imap.search(None, "ALL")
    documents: list[xdm.ReceivedDocument] = []
    for number in found[0].split():
        _status, parts = imap.fetch(number, "(BODY.PEEK[])")
        received = mail.read(next(p[1] for p in parts if isinstance(p, tuple)), max_bytes=20_000_000)
        assert received.xdm is not None
        documents += xdm.read(received.xdm)
    imap.logout()
    return documents


def _angine_with_amoxicilline(world: dict[str, Any], patient: int) -> int:
    kernel, seeded = world["kernel"], world["seeded"]
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    test = depistage.start_test(
        kernel,
        pharmacy,
        patient,
        titulaire,
        "angine",
        consent=True,
        physician=depistage.Physician("Dr Anne MEDECIN", mssante=DOCTOR_BOX),
    )
    assert depistage.answer(kernel, pharmacy, test, ANGINE).eligible
    depistage.set_device(kernel, pharmacy, test, scan=SCAN)
    outcome = depistage.record_result(kernel, pharmacy, test, {"streptocoque": "positif"})
    assert [a.code for a in outcome.antibiotics] == ["amoxicilline"]
    depistage.choose_antibiotic(kernel, pharmacy, test, "amoxicilline", seeded.products["amoxicilline"])
    depistage.finish(kernel, pharmacy, test, seeded.operators["preparatrice"])
    assert depistage.validate(kernel, pharmacy, test, titulaire) == []
    return test


def _fallback(kernel: Kernel, test: int) -> Fallback:
    with kernel.transaction() as session:
        row = session.get(DepistageTest, test)
        assert row is not None
        return row.fallback


def test_a_positive_angine_with_amoxicilline_reaches_the_dmp_as_two_linked_documents(world: dict[str, Any]) -> None:
    kernel, seeded = world["kernel"], world["seeded"]
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    patient = qualify(kernel, seeded, dmp_test_patient(), world["tmp_path"])
    test = _angine_with_amoxicilline(world, patient)
    _drain(kernel, pharmacy)

    listed = {entry.type_code: entry for entry in dmp.list_documents(kernel, pharmacy, titulaire, patient)}
    assert sorted(listed) == ["60593-1", "96173-0"]
    attestation = dmp.open_document(kernel, pharmacy, titulaire, patient, listed["96173-0"])
    dispensation = dmp.open_document(kernel, pharmacy, titulaire, patient, listed["60593-1"])
    assert cda_errors(attestation, ["CI-SIS_BIO-TROD_2024.01.sch"]) == []
    assert cda_errors(dispensation, ["CI-SIS_eDISP-MED_2024.01.sch"]) == []
    # The link: the dispensation fulfils the attestation (its DMP unique id).
    order = etree.fromstring(dispensation).find("hl7:inFulfillmentOf/hl7:order/hl7:id", NS)
    assert order.get("root") == listed["96173-0"].unique_id
    assert etree.fromstring(attestation).find(".//hl7:value", NS).get("displayName") == "positif"
    assert all(count == 1 for count in world["dmp"].registrations.values())
    # The DMP has both: the médecin traitant needs no copy.
    assert _fallback(kernel, test) == Fallback.NOT_NEEDED
    assert _doctor_inbox(world) == []


def test_with_the_dmp_down_past_the_retries_the_doctor_receives_the_attestation_by_mssante(
    world: dict[str, Any],
) -> None:
    kernel, seeded = world["kernel"], world["seeded"]
    pharmacy = seeded.pharmacy_id
    patient = qualify(kernel, seeded, dmp_test_patient(), world["tmp_path"])
    world["dmp"].down = True
    test = _angine_with_amoxicilline(world, patient)
    _drain(kernel, pharmacy)

    assert world["dmp"].documents() == []
    assert any("abandon après 8 essais" in line for line in dmp.status_lines(kernel, pharmacy, patient))
    assert _fallback(kernel, test) == Fallback.SENT
    received = _doctor_inbox(world)
    assert sorted(document.type_code for document in received) == ["60593-1", "96173-0"]
    attestation = next(document for document in received if document.type_code == "96173-0")
    assert mail.cda_patient(attestation.cda).matricule == dmp_test_patient()["matricule_ins"]
    assert cda_errors(attestation.cda, ["CI-SIS_BIO-TROD_2024.01.sch"]) == []
    lines = depistage.tests_for_patient(kernel, pharmacy, patient)
    assert lines[0].fallback_fr == "envoyée au médecin traitant par MSSanté"


def _prevention_patient() -> dict[str, Any]:
    """A fictional woman of 45 to 50 years old (the DMP test patient is in no band), her NIR consistent with her
    traits."""
    born = date(date.today().year - 48, 3, 15)
    body = f"2{born:%y%m}63113045"
    return {
        "nomNaissance": "PREVENTION-DEMO",
        "prenom": "ALIX",
        "sexe": "F",
        "dateNaissance": born.isoformat(),
        "inseeCommune": "63113",
        "matricule_ins": f"{body}{nir_key(body):02d}",
    }


def test_a_ppp_reaches_the_dmp_and_the_doctor(world: dict[str, Any]) -> None:
    kernel, seeded = world["kernel"], world["seeded"]
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    traits = _prevention_patient()
    patient = qualify(kernel, seeded, traits, world["tmp_path"] / "prevention")
    bilan = prevention.start_bilan(
        kernel, pharmacy, patient, titulaire, physician=prevention.Physician("Dr Anne MEDECIN", DOCTOR_BOX)
    )
    prevention.record_interview(
        kernel, pharmacy, bilan, {theme.code: "Rien à signaler." for theme in prevention.themes("45-50")}
    )
    prevention.set_plan(
        kernel,
        pharmacy,
        bilan,
        [prevention.Priority("activite_physique", "Marcher 30 minutes par jour", "Un arrêt de bus plus tôt.")],
    )
    prevention.bill(kernel, pharmacy, bilan, titulaire)
    assert prevention.validate(kernel, pharmacy, bilan, titulaire) == []
    _drain(kernel, pharmacy)

    (entry,) = dmp.list_documents(kernel, pharmacy, titulaire, patient)
    assert entry.type_code == "83869-8"
    (stored,) = world["dmp"].documents()
    formats = [
        c.get("nodeRepresentation")
        for c in stored.metadata.iter("{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}Classification")
        if c.get("classificationScheme") == "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
    ]
    assert formats == ["urn:asip:ci-sis:ppp:2023"]
    (received,) = _doctor_inbox(world)
    assert received.type_code == "83869-8"
    assert mail.cda_patient(received.cda).matricule == traits["matricule_ins"]
    assert cda_errors(received.cda) == []
