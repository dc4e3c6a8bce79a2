"""Shared steps of the end-to-end tests: the DMP test patient of the shared identities, qualified at the counter
through the INSi sandbox (real ins plugin)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain.patients import create_patient
from lgo.identity import OID_NIR
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo_ins import api as ins
from lgo_ins import counter as ins_counter
from lgo_sandbox.pki import TestAuthority


def dmp_test_patient() -> dict[str, Any]:
    for parent in Path(__file__).resolve().parents:
        path = parent / "shared" / "conformance" / "services" / "ins" / "test_identities.json"
        if path.is_file():
            return dict(json.loads(path.read_text())["dmp_test_env"][0])
    _require_or_skip("../shared absent : patient de test du DMP indisponible.")
    raise AssertionError("unreachable")


def insi_answer_for(traits: dict[str, Any], folder: Path) -> Path:
    """A CR 00 answer of the INSi sandbox for the DMP test patient, written from the shared test identity."""
    folder.mkdir(parents=True, exist_ok=True)
    matricule = traits["matricule_ins"]
    (folder / "CR00_dmp_test_patient.xml").write_text(
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        '<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR>'
        f"<INDIVIDU><INSACTIF><IdIndividu><NumIdentifiant>{matricule[:13]}</NumIdentifiant><Cle>{matricule[13:]}"
        f"</Cle></IdIndividu><OID>{OID_NIR}</OID></INSACTIF><TIQ><NomNaissance>{traits['nomNaissance']}"
        f"</NomNaissance><ListePrenom>{traits['prenom']}</ListePrenom><Sexe>{traits['sexe']}</Sexe>"
        f"<DateNaissance>{traits['dateNaissance']}</DateNaissance><LieuNaissance>{traits['inseeCommune']}"
        "</LieuNaissance></TIQ></INDIVIDU></RESULTAT></soap:Body></soap:Envelope>",
        encoding="utf-8",
    )
    return folder


def qualify(kernel: Kernel, seeded: Seeded, traits: dict[str, Any], tmp_path: Path) -> int:
    """Select the patient at the counter: INSi (sandbox, mutual TLS) answers, the pharmacist accepts the identity
    and checks an identity card."""
    from lgo_sandbox.insi import start_insi_sandbox

    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    with kernel.transaction() as session:
        patient = create_patient(
            session,
            pharmacy,
            birth_name=traits["nomNaissance"],
            first_names=traits["prenom"],
            sex=traits["sexe"],
            birth_date=traits["dateNaissance"],
            birth_place_code=traits["inseeCommune"],
        ).id
    authority = TestAuthority(tmp_path / "insi-pki")
    credential = authority.organisation("INSI-AUTO")
    server, _sandbox = start_insi_sandbox(
        authority, responses_dir=insi_answer_for(traits, tmp_path / "insi"), known_idams=frozenset({"LGO-E2E"})
    )
    try:
        credential.store_for(kernel, pharmacy, kind="insi")
        kernel.save_plugin_settings(
            pharmacy,
            "ins",
            {
                "insi_endpoint": server.url,
                "authorisation_number": "LGO-E2E",
            },
        )
        (action,) = Counter(kernel, pharmacy, titulaire).select_patient(patient, source="vitale")
        assert action.kind == "ins.insi_result"
        ins_counter.accept(kernel, pharmacy, patient, titulaire, action.data["identity"])
    finally:
        server.stop()
    ins.record_identity_document(kernel, pharmacy, patient, titulaire, ins.DocumentKind.CNI)
    return patient
