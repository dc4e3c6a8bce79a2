"""Matricule key, RNIV statuses, demotion on a strict trait change, sharing only when qualified."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lgo_ins.plugin
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lgo import hookimpl
from lgo.demo_data import Seeded
from lgo.errors import ValidationError
from lgo.events import IdentityQualified
from lgo.identity import OID_NIA, OID_NIR, OID_TEST
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from lgo.testing import _require_or_skip
from lgo_ins import api, matricule
from lgo_ins.model import Status, status_of


def _identities() -> dict[str, Any]:
    for parent in Path(__file__).resolve().parents:
        path = parent / "shared" / "conformance" / "services" / "ins" / "test_identities.json"
        if path.is_file():
            return dict(json.loads(path.read_text()))
    _require_or_skip("../shared absent : identités de test INS indisponibles.")
    raise AssertionError("unreachable")


def test_every_valid_shared_test_matricule_is_accepted_and_altered_ones_are_refused() -> None:
    data = _identities()
    entries = [e for e in (*data["insi_test_env"], *data["cnda_synthetic_responses"]) if "matricule" in e]
    assert any("2A" in e["matricule"] for e in entries) and any("2B" in e["matricule"] for e in entries)
    checked = 0
    for entry in entries:
        value = entry["matricule"] + entry["cle"]
        oid = entry.get("oid", OID_NIR)
        if entry["key_valid"]:
            assert matricule.parse(value, oid, test_mode=True).value == value
            altered = value[:12] + str((int(value[12]) + 1) % 10) + value[13:] if value[12].isdigit() else value
            with pytest.raises(ValidationError):
                matricule.parse(altered, oid, test_mode=True)
            checked += 1
        else:
            with pytest.raises(ValidationError, match="clé"):
                matricule.parse(value, oid, test_mode=True)
    dmp = data["dmp_test_env"][0]["matricule_ins"]
    assert matricule.parse(dmp, OID_NIR).value == dmp
    assert checked >= 6


def test_corsica_departments_count_as_19_and_18() -> None:
    for department, digits in (("2A", "19"), ("2B", "18")):
        body = "18001" + department + "005123"
        assert len(body) == 13
        expected = 97 - int(body.replace(department, digits)) % 97
        assert matricule.key(body) == expected
        assert matricule.parse(f"{body}{expected:02d}", OID_NIR).value.endswith(f"{expected:02d}")


def test_test_and_demo_oids_need_the_test_mode() -> None:
    value = "2850399100123" + f"{matricule.key('2850399100123'):02d}"
    with pytest.raises(ValidationError, match="mode test"):
        matricule.parse(value, OID_TEST)
    assert matricule.parse(value, OID_NIA).authority == "NIA"


@given(st.text(max_size=30), st.sampled_from([OID_NIR, OID_NIA, OID_TEST, "1.2.3", ""]), st.booleans())
def test_random_input_gives_only_clean_validation_errors(value: str, oid: str, test_mode: bool) -> None:
    try:
        matricule.parse(value, oid, test_mode=test_mode)
    except ValidationError as exc:
        assert exc.message_fr


def test_the_status_table() -> None:
    assert [status_of(i, d) for i, d in ((False, False), (True, False), (False, True), (True, True))] == [
        Status.PROVISOIRE,
        Status.RECUPEREE,
        Status.VALIDEE,
        Status.QUALIFIEE,
    ]


class Listener:
    MANIFEST = Manifest(name="listener", plugin_api=">=2.0,<3")

    def __init__(self) -> None:
        self.qualified: list[int] = []

    @hookimpl
    def lgo_on_identity_qualified(self, kernel: Kernel, event: IdentityQualified) -> None:
        self.qualified.append(event.patient_id)


def test_qualification_sharing_and_demotion(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> None:
    listener = Listener()
    kernel = lgo_make_kernel(lgo_ins.plugin, listener)
    pharmacy, patient, titulaire = (
        lgo_seeded.pharmacy_id,
        lgo_seeded.patients["camille"],
        lgo_seeded.operators["titulaire"],
    )
    for name in ("ins", "listener"):
        kernel.enable(pharmacy, name)
    body = "2850399100123"
    traits = api.InsiTraits(
        f"{body}{matricule.key(body):02d}", OID_TEST, "MARTIN-DEMO", ("CAMILLE", "ANNE"), "F", "1985-03-14", "99100"
    )
    assert api.qualification_actions(kernel, pharmacy, patient)[0].kind == "ins.qualify"
    assert api.record_insi_result(kernel, pharmacy, patient, titulaire, traits) == Status.RECUPEREE
    assert not kernel.is_identity_shareable(pharmacy, patient)
    with pytest.raises(ValidationError, match="haut niveau de confiance"):
        api.record_identity_document(kernel, pharmacy, patient, titulaire, api.DocumentKind.LIVRET_FAMILLE)
    assert api.record_identity_document(kernel, pharmacy, patient, titulaire, api.DocumentKind.CNI) == Status.QUALIFIEE
    assert listener.qualified == [patient]
    assert kernel.shareable_identity(pharmacy, patient).matricule == traits.matricule
    assert api.qualification_actions(kernel, pharmacy, patient) == []
    kernel.update_patient_traits(pharmacy, patient, used_name="AUTRE")
    assert kernel.is_identity_shareable(pharmacy, patient)
    kernel.update_patient_traits(pharmacy, patient, birth_name="MARTINE-DEMO")
    assert api.status(kernel, pharmacy, patient) == Status.PROVISOIRE
    assert not kernel.is_identity_shareable(pharmacy, patient)


def test_a_minor_s_birth_certificate_counts_with_a_parent_s_document(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(lgo_ins.plugin)
    kernel.enable(lgo_seeded.pharmacy_id, "ins")
    status = api.record_identity_document(
        kernel,
        lgo_seeded.pharmacy_id,
        lgo_seeded.patients["camille"],
        None,
        api.DocumentKind.ACTE_NAISSANCE,
        minor=True,
        parent_document=api.DocumentKind.PASSEPORT,
    )
    assert status == Status.VALIDEE


@given(
    st.text(max_size=60),
    st.text(max_size=60),
    st.text(max_size=3),
    st.text(max_size=12),
    st.one_of(st.none(), st.text(max_size=6)),
)
def test_random_traits_give_only_clean_validation_errors(
    birth_name: str, first_name: str, sex: str, birth_date: str, place: str | None
) -> None:
    from lgo_ins import insi

    try:
        body = insi.traits_body(birth_name, first_name, sex, birth_date, place)
    except ValidationError as exc:
        assert exc.message_fr
    else:
        assert body.findtext("{http://www.cnamts.fr/INSiRecSans}NomNaissance")


def test_document_answers_reprompts_and_patients_without_ins(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    from lgo.counter import Counter
    from lgo.domain.audit import AuditEntry
    from sqlalchemy import select

    kernel = lgo_make_kernel(lgo_ins.plugin)
    pharmacy, patient, other = lgo_seeded.pharmacy_id, lgo_seeded.patients["camille"], lgo_seeded.patients["jean"]
    kernel.enable(pharmacy, "ins")
    body = "2850399100123"
    api.record_insi_result(
        kernel,
        pharmacy,
        patient,
        None,
        api.InsiTraits(
            f"{body}{matricule.key(body):02d}", OID_TEST, "MARTIN-DEMO", ("CAMILLE",), "F", "1985-03-14", "99100"
        ),
    )
    api.record_document_answer(kernel, pharmacy, patient, None, api.DocumentAnswer.NONE_PRESENTED, reprompts=2)
    counter = Counter(kernel, pharmacy, lgo_seeded.operators["adjoint"])
    asked = [counter.select_patient(patient) for _ in range(3)]
    assert [len(a) for a in asked] == [1, 1, 0] and asked[0][0].kind == "ins.qualify"
    api.record_document_answer(kernel, pharmacy, patient, None, api.DocumentAnswer.DIFFERENT)
    api.record_identity_document(kernel, pharmacy, patient, None, api.DocumentKind.CNI)
    assert not kernel.is_identity_shareable(pharmacy, patient)  # "pièce différente" makes it doubtful
    api.record_no_ins(kernel, pharmacy, other, None, "anonymat réglementaire")
    assert counter.select_patient(other) == []
    with kernel.transaction() as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ins")))
    assert {"ins.document_answer", "ins.no_ins", "ins.insi_result", "ins.document_checked"} <= actions


def test_an_insi_test_identity_is_accepted_only_when_the_pharmacy_is_in_test_mode(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    """The national test platforms answer with test identities: a pharmacy in production refuses them, the same
    pharmacy switched to test mode (the « Officine » page, ``lgo init --test``) accepts them."""
    from lgo.domain.pharmacy import Pharmacy

    kernel = lgo_make_kernel(lgo_ins.plugin)
    pharmacy, patient, titulaire = (
        lgo_seeded.pharmacy_id,
        lgo_seeded.patients["camille"],
        lgo_seeded.operators["titulaire"],
    )
    kernel.enable(pharmacy, "ins")
    body = "2850399100123"
    traits = api.InsiTraits(
        f"{body}{matricule.key(body):02d}", OID_TEST, "MARTIN-DEMO", ("CAMILLE", "ANNE"), "F", "1985-03-14", "99100"
    )
    for test_mode in (False, True):
        with kernel.transaction() as session:
            row = session.get(Pharmacy, pharmacy)
            assert row is not None
            row.test_mode = test_mode
        if test_mode:
            assert api.record_insi_result(kernel, pharmacy, patient, titulaire, traits) == Status.RECUPEREE
        else:
            with pytest.raises(ValidationError, match="l'officine n'est pas en mode test"):
                api.record_insi_result(kernel, pharmacy, patient, titulaire, traits)
            assert api.status(kernel, pharmacy, patient) == Status.PROVISOIRE
