"""``lgo demo`` step: the BPM sent by MSSanté to the doctor and to the patient's Mon espace santé mailbox, the
doctor's reply integrated to the patient with its acknowledgement, a misdirected message quarantined, and the same
exchange from the pharmacist's nominative Mailiz mailbox by changing the provider only — against a real mail server
(Dovecot + aiosmtpd) and an Annuaire Santé sandbox started on loopback."""

from __future__ import annotations

import smtplib
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import DocumentStatus, HealthDocument, IdentityNotShareable, LgoError
from lgo.documents.xds_codes import BILAN_MEDICAMENTEUX
from lgo.worker import Worker
from lgo_mssante import accounts, annuaire, service
from sqlalchemy import select

from lgo_sandbox.mss.documents import professional_cda, reply_with_xdm, validated_bpm

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep

PHARMACY_BOX = "officine.tilleuls@pharmacie-demo.mssante.fr"
PHARMACIST_BOX = "titulaire.tilleuls@pharmacien.mssante.fr"


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("MSSanté : bilan envoyé au médecin et au patient, réponse intégrée, accusé de réception", _step)]


def _document(ctx: DemoContext, patient_id: int, pharmacist: int) -> int:
    with ctx.kernel.transaction() as session:
        found = session.scalar(
            select(HealthDocument.id)
            .where(
                HealthDocument.pharmacy_id == ctx.pharmacy_id,
                HealthDocument.patient_id == patient_id,
                HealthDocument.type_code == BILAN_MEDICAMENTEUX,
                HealthDocument.status == DocumentStatus.VALIDATED,
            )
            .order_by(HealthDocument.id.desc())
        )
    return found if found is not None else validated_bpm(ctx.kernel, ctx.pharmacy_id, patient_id, pharmacist)


def _step(ctx: DemoContext) -> list[str]:
    from lgo_sandbox.mss.annuaire import start_annuaire_sandbox
    from lgo_sandbox.mss.mailserver import available, start_mail_sandbox
    from lgo_sandbox.pki import TestAuthority

    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    reason = available()
    if reason:
        return [f"Étape non jouée : {reason}. Installez-le pour voir l'échange MSSanté réel."]
    patient_id, pharmacist = ctx.seeded.patients["camille"], ctx.seeded.operators["titulaire"]
    if not kernel.is_active(pharmacy_id, "mssante"):
        kernel.enable(pharmacy_id, "mssante")
    try:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
    except IdentityNotShareable:
        return [
            "L'identité de Camille n'est pas qualifiée (étape INS non jouée) : rien n'est envoyé par MSSanté, "
            "comme le veut le référentiel."
        ]
    patient_box = f"{identity.matricule}@patient.mssante.fr"
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lgo-demo-mss-") as directory:
        authority = TestAuthority(Path(directory) / "pki")
        server, _annuaire = start_annuaire_sandbox()
        doctor = authority.person("99999000047", given_name="Anne", surname="MEDECIN-DEMO")
        [found] = annuaire.search(server.url, name="medecin-demo")
        doctor_box = found.mailboxes[0].address
        lines.append(f"Annuaire Santé : {found.name} (RPPS {found.national_id[1:]}), boîte nominative {doctor_box}.")
        passwords = {
            PHARMACY_BOX: "demo-org",
            PHARMACIST_BOX: "demo-per",
            doctor_box: "demo-doc",
            patient_box: "demo-pat",
        }
        mail = start_mail_sandbox(authority, passwords)
        try:
            kernel.save_plugin_settings(
                pharmacy_id,
                "mssante",
                {
                    "smtp_host": "127.0.0.1",
                    "smtp_port": mail.smtp_port,
                    "imap_host": "127.0.0.1",
                    "imap_port": mail.imap_port,
                    "ca_path": str(authority.ca_path),
                    "timeout_seconds": 5,
                    "annuaire_url": server.url,
                },
            )
            # This step's own authority: the organisational box presents a certificate the mail server trusts.
            authority.organisation("PHARMACIE DES TILLEULS").store_for(kernel, pharmacy_id)
            kernel.select_provider(pharmacy_id, "mssante", "organisationnelle")
            account = accounts.add_organisational(
                kernel, pharmacy_id, address=PHARMACY_BOX, login=PHARMACY_BOX, password=passwords[PHARMACY_BOX]
            )
            accounts.set_habilitation(kernel, pharmacy_id, account, pharmacist, "Utilisateur")
            lines.append(f"Fournisseur « organisationnelle » : boîte {PHARMACY_BOX}, le titulaire y est Utilisateur.")
            document = _document(ctx, patient_id, pharmacist)
            service.send_documents(
                kernel, pharmacy_id, pharmacist, patient_id, [document], professionals=[doctor_box], to_patient=True
            )
            lines.append(
                "Bilan partagé de médication mis en file pour le médecin et pour la messagerie de Mon espace "
                f"santé ({patient_box}) : le comptoir n'attend pas le serveur."
            )
            _drain(ctx)
            lines.extend(service.status_lines(kernel, pharmacy_id, direction="sortant")[-1:])
            reply = reply_with_xdm(sender=doctor_box, to=PHARMACY_BOX, cda=professional_cda(identity))
            _submit(mail, doctor, doctor_box, passwords[doctor_box], reply)
            stranger = replace(
                identity,
                matricule="180017512300115",
                birth_name="INCONNU-DEMO",
                first_names=("PIERRE",),
                sex="M",
                birth_date="1980-01-01",
            )
            _submit(
                mail,
                doctor,
                doctor_box,
                passwords[doctor_box],
                reply_with_xdm(sender=doctor_box, to=PHARMACY_BOX, cda=professional_cda(stranger)),
            )
            report = service.receive(kernel, pharmacy_id)
            lines.extend(report.lines_fr())
            lines.extend("  " + line for line in service.status_lines(kernel, pharmacy_id, direction="entrant"))
            _drain(ctx)
            lines.append(
                "Accusés de réception (MDN) envoyés au médecin : « processed » pour le compte rendu intégré, "
                "« processed/Error 902 » pour le patient inconnu."
            )
            operator_rpps = _rpps(ctx, pharmacist)
            person = authority.person(operator_rpps, given_name="Titulaire", surname="TILLEULS")
            accounts.add_personal(
                kernel,
                pharmacy_id,
                operator_id=pharmacist,
                address=PHARMACIST_BOX,
                login=PHARMACIST_BOX,
                password=passwords[PHARMACIST_BOX],
                pkcs12=person.pkcs12("demo-perso"),
                passphrase="demo-perso",
            )
            kernel.select_provider(pharmacy_id, "mssante", "mailiz")
            service.send_documents(kernel, pharmacy_id, pharmacist, patient_id, [document], professionals=[doctor_box])
            _drain(ctx)
            lines.append(
                f"Fournisseur changé pour « mailiz » dans les réglages : même envoi depuis la boîte "
                f"nominative {PHARMACIST_BOX}, avec le certificat personnel du pharmacien."
            )
            lines.extend(service.status_lines(kernel, pharmacy_id, direction="sortant")[-1:])
        except LgoError as exc:
            lines.append(f"Échange interrompu : {exc.message_fr}")
        finally:
            mail.stop()
            server.stop()
    return lines


def _rpps(ctx: DemoContext, operator_id: int) -> str:
    from lgo.api import Operator

    with ctx.kernel.transaction() as session:
        operator = session.get(Operator, operator_id)
        return operator.rpps if operator and operator.rpps else "99999000013"


def _drain(ctx: DemoContext) -> None:
    # Only this module's messages: the DMP step delivers its own, once it has configured the DMP.
    worker = Worker(ctx.kernel, base_backoff_seconds=0.0, pharmacy_id=ctx.pharmacy_id, plugins=("mssante",))
    for _ in range(3):
        worker.drain()


def _submit(mail: Any, credential: Any, login: str, password: str, message: Any) -> None:
    with smtplib.SMTP("127.0.0.1", mail.smtp_port, timeout=10) as smtp:
        smtp.starttls(context=credential.client_context())
        smtp.login(login, password)
        smtp.send_message(message)
