from __future__ import annotations

import imaplib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import lgo_mssante.plugin
import pytest
from lgo.demo_data import Seeded
from lgo.domain import certificates
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo.testing.fakes import MATRICULE, FakeIdentityPlugin
from lgo.worker import Worker
from lgo_mssante import accounts
from lgo_sandbox.mss.documents import validated_bpm
from lgo_sandbox.mss.mailserver import MailSandbox, available, start_mail_sandbox
from lgo_sandbox.pki import Credential, TestAuthority

PHARMACY_BOX = "officine.tilleuls@pharmacie-demo.mssante.fr"
PHARMACIST_BOX = "titulaire.tilleuls@pharmacien.mssante.fr"
DOCTOR_BOX = "anne.medecin-demo@medecin.mssante.fr"
PATIENT_BOX = f"{MATRICULE}@patient.mssante.fr"
PASSWORDS = {
    PHARMACY_BOX: "org-secret",
    PHARMACIST_BOX: "per-secret",
    DOCTOR_BOX: "doc-secret",
    PATIENT_BOX: "pat-secret",
}


@dataclass
class MssWorld:
    kernel: Kernel
    seeded: Seeded
    sandbox: MailSandbox
    authority: TestAuthority
    identity: FakeIdentityPlugin
    provider: str
    doctor: Credential
    account_id: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pharmacy_id(self) -> int:
        return self.seeded.pharmacy_id

    @property
    def pharmacist(self) -> int:
        return self.seeded.operators["titulaire"]

    @property
    def patient(self) -> int:
        return self.seeded.patients["camille"]

    @property
    def own_box(self) -> str:
        return PHARMACIST_BOX if self.provider == "mailiz" else PHARMACY_BOX

    def drain(self) -> None:
        worker = Worker(self.kernel, base_backoff_seconds=0.0, pharmacy_id=self.pharmacy_id)
        for _ in range(3):
            worker.drain()

    def mailbox(self, address: str) -> list[EmailMessage]:
        """Every message of a mailbox, read over IMAP as its owner would (with a client certificate)."""
        imap = imaplib.IMAP4("127.0.0.1", self.sandbox.imap_port)
        imap.starttls(ssl_context=self.doctor.client_context())
        imap.login(address, PASSWORDS[address])
        imap.select("INBOX", readonly=True)
        _status, data = imap.search(None, "ALL")
        messages = []
        for number in data[0].split():
            _s, parts = imap.fetch(number.decode(), "(BODY.PEEK[])")
            raw = next(p[1] for p in parts if isinstance(p, tuple))
            parsed = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(parsed, EmailMessage)
            messages.append(parsed)
        imap.logout()
        return messages

    def document(self) -> int:
        return validated_bpm(self.kernel, self.pharmacy_id, self.patient, self.pharmacist)


@pytest.fixture(scope="session")
def mss_authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("mss-pki"))


@pytest.fixture
def mss_sandbox(mss_authority: TestAuthority) -> Iterator[MailSandbox]:
    reason = available()
    if reason:
        _require_or_skip(f"{reason} : tests MSSanté sur serveur de messagerie réel ignorés")
    sandbox = start_mail_sandbox(mss_authority, PASSWORDS)
    yield sandbox
    sandbox.stop()


def _make_world(
    make_kernel: Callable[..., Kernel],
    seeded: Seeded,
    sandbox: MailSandbox,
    authority: TestAuthority,
    provider: str,
    tmp_path: Path,
) -> MssWorld:
    identity = FakeIdentityPlugin("ins")
    kernel = make_kernel(lgo_mssante.plugin, identity)
    pharmacy = seeded.pharmacy_id
    kernel.enable(pharmacy, "ins")
    kernel.enable(pharmacy, "mssante")
    kernel.select_provider(pharmacy, "mssante", provider)
    kernel.save_plugin_settings(
        pharmacy,
        "mssante",
        {
            "smtp_host": "127.0.0.1",
            "smtp_port": sandbox.smtp_port,
            "imap_host": "127.0.0.1",
            "imap_port": sandbox.imap_port,
            "ca_path": str(authority.ca_path),
            "timeout_seconds": 5,
            "product_reference": "LGO-LIBRE-TEST",
        },
    )
    organisation = authority.organisation("PHARMACIE DES TILLEULS", finess="999000011")
    with kernel.transaction() as session:
        certificates.store(session, pharmacy, organisation.pkcs12("p12-secret"), "p12-secret", accept_warnings=True)
    pharmacist = seeded.operators["titulaire"]
    if provider == "mailiz":
        person = authority.person("99999000013", given_name="Titulaire", surname="TILLEULS", email=PHARMACIST_BOX)
        account = accounts.add_personal(
            kernel,
            pharmacy,
            operator_id=pharmacist,
            address=PHARMACIST_BOX,
            login=PHARMACIST_BOX,
            password=PASSWORDS[PHARMACIST_BOX],
            pkcs12=person.pkcs12("p12-perso"),
            passphrase="p12-perso",
        )
    else:
        account = accounts.add_organisational(
            kernel, pharmacy, address=PHARMACY_BOX, login=PHARMACY_BOX, password=PASSWORDS[PHARMACY_BOX]
        )
        accounts.set_habilitation(kernel, pharmacy, account, pharmacist, "Utilisateur")
    identity.qualify(kernel, pharmacy, seeded.patients["camille"])
    doctor = authority.person("99999000047", given_name="Anne", surname="MEDECIN-DEMO", email=DOCTOR_BOX)
    return MssWorld(kernel, seeded, sandbox, authority, identity, provider, doctor, account)


@pytest.fixture(params=["mailiz", "organisationnelle"])
def mss_world(
    request: pytest.FixtureRequest,
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
    mss_sandbox: MailSandbox,
    mss_authority: TestAuthority,
    tmp_path: Path,
) -> MssWorld:
    return _make_world(lgo_make_kernel, lgo_seeded, mss_sandbox, mss_authority, request.param, tmp_path)


@pytest.fixture
def mss_org_world(
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
    mss_sandbox: MailSandbox,
    mss_authority: TestAuthority,
    tmp_path: Path,
) -> MssWorld:
    return _make_world(lgo_make_kernel, lgo_seeded, mss_sandbox, mss_authority, "organisationnelle", tmp_path)
