"""One pharmacy with every plugin of « Le comptoir (2) » and the real sandboxes, shared by a test module: the DMP
sandbox over mutual TLS, Dovecot + aiosmtpd for MSSanté (the pharmacy's organisational mailbox, a doctor's box and the
patient's Mon espace santé box), the Annuaire Santé sandbox, the INSi sandbox that qualifies the DMP test patient.
Built once per module (the machine is shared): tests start from it and leave it usable."""

from __future__ import annotations

import imaplib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from lgo.counter import Counter, DraftLine
from lgo.demo_data import Seeded, seed
from lgo.domain import certificates
from lgo.domain.billing import LineKind
from lgo.domain.dispensing import create_prescription
from lgo.domain.pharmacy import Pharmacy
from lgo.domain.products import product_by_cip13
from lgo.identity import SharedIdentity
from lgo.kernel import Kernel
from lgo.worker import Worker
from lgo_sandbox.pki import Credential, TestAuthority

ORG_BOX = "officine.tilleuls@pharmacie-demo.mssante.fr"
DOCTOR_BOX = "anne.medecin-demo@medecin.mssante.fr"


@dataclass
class FileWorld:
    kernel: Kernel
    seeded: Seeded
    authority: TestAuthority
    dmp_url: str
    dmp: Any
    mail: Any
    annuaire: Any
    doctor: Credential
    patient: int
    patient_box: str
    passwords: dict[str, str]
    account: int

    @property
    def pharmacy(self) -> int:
        return self.seeded.pharmacy_id

    @property
    def titulaire(self) -> int:
        return self.seeded.operators["titulaire"]

    def identity(self) -> SharedIdentity:
        return self.kernel.shareable_identity(self.pharmacy, self.patient)

    def drain(self) -> None:
        worker = Worker(self.kernel, base_backoff_seconds=0.0, pharmacy_id=self.pharmacy)
        for _ in range(4):
            if not worker.drain():
                break

    def mailbox(self, address: str) -> list[EmailMessage]:
        """Every message of a mailbox, read over IMAP with a client certificate, as its owner would."""
        imap = imaplib.IMAP4("127.0.0.1", self.mail.imap_port)
        imap.starttls(ssl_context=self.doctor.client_context())
        imap.login(address, self.passwords[address])
        imap.select("INBOX", readonly=True)
        _status, data = imap.search(None, "ALL")
        found = []
        for number in data[0].split():
            _s, parts = imap.fetch(number.decode(), "(BODY.PEEK[])")
            raw = next(p[1] for p in parts if isinstance(p, tuple))
            parsed = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        imap.logout()
        return found


def _dispense(kernel: Kernel, seeded: Seeded, patient: int, *products: str) -> None:
    pharmacy, operator = seeded.pharmacy_id, seeded.operators["titulaire"]
    with kernel.transaction() as session:
        prescription = create_prescription(
            session, pharmacy, patient, prescriber_name="Dr Anne Médecin-Démo", prescribed_on=date.today()
        ).id
        lines = []
        for key in products:
            product = product_by_cip13(session, pharmacy, seeded.products[key])
            lines.append(
                DraftLine(LineKind.PRODUCT, product.label, 1, product.price_cents, 65, product.id, product.cip13)
            )
    counter = Counter(kernel, pharmacy, operator)
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    billing.lines.extend(lines)
    counter.end_billing(billing)


@contextmanager
def file_world(folder: Path) -> Iterator[FileWorld]:
    import lgo_dmp.plugin
    import lgo_entretiens.plugin
    import lgo_ins.plugin
    import lgo_mssante.plugin
    import lgo_vaccination.plugin
    from lgo_mssante import accounts
    from lgo_sandbox.dmp import start_dmp_sandbox
    from lgo_sandbox.mss.annuaire import practitioner, start_annuaire_sandbox
    from lgo_sandbox.mss.mailserver import start_mail_sandbox
    from segur_helpers import dmp_test_patient, qualify

    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in ("LGO_HOME", "LGO_SECRET_KEY", "LGO_DATABASE_URL")}
    os.environ["LGO_HOME"] = str(home)
    os.environ.pop("LGO_SECRET_KEY", None)
    os.environ.pop("LGO_DATABASE_URL", None)
    with ExitStack() as stack:
        try:
            database = home / "lgo.sqlite"
            kernel = Kernel(
                f"sqlite:///{database}",
                strict=True,
                discover_installed=False,
                extra_plugins=[
                    lgo_ins.plugin,
                    lgo_dmp.plugin,
                    lgo_vaccination.plugin,
                    lgo_entretiens.plugin,
                    lgo_mssante.plugin,
                ],
            )
            kernel.upgrade_database()
            kernel.start()
            stack.callback(kernel.close)
            with kernel.transaction() as session:
                seeded = seed(session)
            pharmacy = seeded.pharmacy_id
            for name in ("ins", "dmp", "vaccination", "entretiens", "mssante"):
                kernel.enable(pharmacy, name)
            traits = dmp_test_patient()
            patient = qualify(kernel, seeded, traits, folder)
            _dispense(kernel, seeded, patient, "amoxicilline", "paracetamol")
            _dispense(kernel, seeded, patient, "metformine")

            authority = TestAuthority(folder / "pki")
            with kernel.transaction() as session:
                finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
            organisation = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
            server, dmp = start_dmp_sandbox(authority, seed=20)
            stack.callback(server.stop)
            kernel.save_plugin_settings(
                pharmacy,
                "dmp",
                {
                    "endpoint": server.url,
                    "certificate_path": str(organisation.cert_path),
                    "key_path": str(organisation.key_path),
                    "ca_path": str(organisation.ca_path),
                },
            )
            patient_box = f"{traits['matricule_ins']}@patient.mssante.fr"
            passwords = {ORG_BOX: "org-secret", DOCTOR_BOX: "doc-secret", patient_box: "pat-secret"}
            mail = start_mail_sandbox(authority, passwords)
            stack.callback(mail.stop)
            annuaire_server, annuaire = start_annuaire_sandbox(
                [practitioner("899999000047", "MEDECIN-DEMO", "Anne", [(DOCTOR_BOX, "PER")], city="Villedémo")]
            )
            stack.callback(annuaire_server.stop)
            kernel.select_provider(pharmacy, "mssante", "organisationnelle")
            kernel.save_plugin_settings(
                pharmacy,
                "mssante",
                {
                    "smtp_host": "127.0.0.1",
                    "smtp_port": mail.smtp_port,
                    "imap_host": "127.0.0.1",
                    "imap_port": mail.imap_port,
                    "ca_path": str(authority.ca_path),
                    "timeout_seconds": 5,
                    "annuaire_url": annuaire_server.url,
                },
            )
            with kernel.transaction() as session:
                certificates.store(session, pharmacy, organisation.pkcs12("p12"), "p12")
            account = accounts.add_organisational(
                kernel, pharmacy, address=ORG_BOX, login=ORG_BOX, password=passwords[ORG_BOX]
            )
            accounts.set_habilitation(kernel, pharmacy, account, seeded.operators["titulaire"], "Gestionnaire")
            accounts.set_habilitation(kernel, pharmacy, account, seeded.operators["preparatrice"], "Utilisateur")
            doctor = authority.person("99999000047", given_name="Anne", surname="MEDECIN-DEMO", email=DOCTOR_BOX)
            with sqlite3.connect(database) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            yield FileWorld(
                kernel,
                seeded,
                authority,
                server.url,
                dmp,
                mail,
                annuaire,
                doctor,
                patient,
                patient_box,
                passwords,
                account,
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
