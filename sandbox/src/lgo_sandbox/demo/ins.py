"""``lgo demo`` step: INSi at the counter against the INSi sandbox, then a high-trust identity document."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from lgo_ins import api
from lgo_ins import counter as ins_counter

from lgo_sandbox.demo import insi_peer

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("Identité nationale de santé : appel INSi (bac à sable) et qualification", _step)]


def _step(ctx: DemoContext) -> list[str]:
    from lgo_sandbox.pki import TestAuthority

    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    patient, pharmacist = ctx.seeded.patients["camille"], ctx.seeded.operators["titulaire"]
    lines = [f"Statut initial de l'identité de Camille : {api.status(kernel, pharmacy_id, patient).value}."]
    with tempfile.TemporaryDirectory(prefix="lgo-demo-insi-") as directory:
        authority = TestAuthority(Path(directory) / "pki")
        server, sandbox = insi_peer.start(kernel, pharmacy_id, authority)
        try:
            lines.append(f"Bac à sable INSi démarré sur {server.url} (SOAP 1.2, TLS mutuel, certificat INSI-AUTO).")
            counter = ctx.counter("titulaire")
            for action in counter.select_patient(patient, source="vitale"):
                lines.append(f"Sélection de la patiente → {action.title_fr} : {action.message_fr}")
                if action.kind == "ins.insi_result":
                    status = ins_counter.accept(kernel, pharmacy_id, patient, pharmacist, action.data["identity"])
                    lines.append(
                        f"Le pharmacien accepte l'identité INSi ({action.data['identity']['matricule']}) : "
                        f"statut {status.value}."
                    )
            shareable = "oui" if kernel.is_identity_shareable(pharmacy_id, patient) else "non"
            lines.append(f"Partage de l'INS possible ? {shareable} (seule une identité qualifiée est partagée).")
            status = api.record_identity_document(kernel, pharmacy_id, patient, pharmacist, api.DocumentKind.CNI)
            lines.append(f"Carte nationale d'identité vérifiée : statut {status.value}.")
            sandbox.down = True
            for action in counter.select_patient(ctx.seeded.patients["jean"]):
                lines.append(f"INSi en panne, sélection de Jean → {action.title_fr} : {action.message_fr}")
            lines.append("Le comptoir continue ; la recherche est en file d'envoi pour un nouvel essai.")
        finally:
            server.stop()
    return lines
