"""``lgo demo`` step: qualifying a patient's identity (INS traits and a high-trust identity document)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.identity import OID_TEST

from lgo_ins import api, matricule

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep

#: A fictional identity with a valid key under the test OID (no real person).
DEMO_BODY = "2850399100123"


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("Identité nationale de santé : de « provisoire » à « qualifiée »", _step)]


def _step(ctx: DemoContext) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    patient, pharmacist = ctx.seeded.patients["camille"], ctx.seeded.operators["titulaire"]
    value = f"{DEMO_BODY}{matricule.key(DEMO_BODY):02d}"
    lines = [f"Statut initial : {api.status(kernel, pharmacy_id, patient).value}."]
    lines.append("Le téléservice INSi n'est pas encore raccordé dans cette version : la réponse INSi d'une identité "
                 "de test (OID de test) est enregistrée telle qu'INSi la renverrait.")
    status = api.record_insi_result(kernel, pharmacy_id, patient, pharmacist, api.InsiTraits(
        matricule=value, oid=OID_TEST, birth_name="MARTIN-DEMO", first_names=("CAMILLE", "ANNE"), sex="F",
        birth_date="1985-03-14", birth_place_code="99100"))
    lines.append(f"INS {value} (clé vérifiée) : statut {status.value}.")
    lines.append(f"Partage possible ? {'oui' if kernel.is_identity_shareable(pharmacy_id, patient) else 'non'} "
                 "(seule une identité qualifiée est partagée).")
    status = api.record_identity_document(kernel, pharmacy_id, patient, pharmacist, api.DocumentKind.CNI)
    lines.append(f"Carte nationale d'identité vérifiée : statut {status.value}.")
    lines.append(f"Partage possible ? {'oui' if kernel.is_identity_shareable(pharmacy_id, patient) else 'non'}.")
    return lines
