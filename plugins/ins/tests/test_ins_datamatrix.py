"""INS Datamatrix: the shared vectors, build/read round trips, hostile payloads, rendering, qualified only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import lgo_ins.plugin
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lgo.api import traits
from lgo.demo_data import Seeded
from lgo.errors import ValidationError
from lgo.identity import OID_NIA, OID_NIR, OID_TEST, IdentityNotShareable
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo_ins import api, datamatrix, matricule
from lgo_ins.datamatrix import DatamatrixIdentity


def _vectors() -> list[dict[str, Any]]:
    for parent in Path(__file__).resolve().parents:
        path = parent / "shared" / "conformance" / "services" / "ins" / "datamatrix_ins_vectors.json"
        if path.is_file():
            return list(json.loads(path.read_text())["vectors"])
    _require_or_skip("../shared absent : vecteurs Datamatrix INS indisponibles.")
    raise AssertionError("unreachable")


def test_every_shared_vector_is_read_to_its_fields_and_its_synthetic_identity_refused() -> None:
    vectors = _vectors()
    assert len(vectors) >= 4
    for vector in vectors:
        read = datamatrix.fields(vector["payload"])
        if "expected" in vector:
            expected = vector["expected"]
            assert (read["S1"], read["S2"], read["S3"], read["S4"], read["S5"], read["S6"]) == (
                expected["matricule"],
                expected["oid"],
                expected["prenoms"],
                expected["nom"],
                expected["sexe"],
                "-".join(reversed(expected["date_naissance"].split("-"))),
            )
        if "length" in vector:
            assert len(vector["payload"]) == vector["length"]
        # The published vectors carry made-up matricules (wrong key), OIDs or dates: no identity is accepted.
        with pytest.raises(ValidationError, match="Datamatrix INS refusé"):
            datamatrix.parse(vector["payload"])


names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ -'", min_size=1, max_size=100).filter(
    lambda name: traits.is_ins_name(name) and traits.ins_name(name) == name
)
BODIES = ["2850399100123", "297022A020778", "160012B020777", "1090763220834"]


@given(
    first=names,
    last=names,
    sex=st.sampled_from("MFI"),
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    oid=st.sampled_from([OID_NIR, OID_NIA, OID_TEST]),
    body=st.sampled_from(BODIES),
    place=st.one_of(st.none(), st.sampled_from(["2A004", "2B033", "63220", "99109", "99999"])),
)
def test_a_built_payload_reads_back_identically(
    first: str, last: str, sex: str, day: date, oid: str, body: str, place: str | None
) -> None:
    value = f"{body}{matricule.key(body):02d}"
    identity = DatamatrixIdentity(value, oid, first, last, sex, day.isoformat(), place)
    assert datamatrix.parse(datamatrix.build(identity)) == identity


@given(st.text(max_size=300))
def test_random_payloads_give_only_clean_validation_errors(payload: str) -> None:
    try:
        datamatrix.parse(datamatrix.HEADER + payload)
    except ValidationError as exc:
        assert exc.message_fr


def test_malformed_payloads_get_french_messages() -> None:
    with pytest.raises(ValidationError, match="en-tête IS01"):
        datamatrix.parse("QR-CODE-QUELCONQUE")
    with pytest.raises(ValidationError, match="tronqué"):
        datamatrix.parse(datamatrix.HEADER + "S11234")
    with pytest.raises(ValidationError, match="incomplet"):
        datamatrix.parse(datamatrix.HEADER + "S1123549685274612")


def test_only_a_qualified_identity_is_printed_and_it_renders_as_an_image(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(lgo_ins.plugin)
    pharmacy, patient = lgo_seeded.pharmacy_id, lgo_seeded.patients["camille"]
    kernel.enable(pharmacy, "ins")
    body = "2850399100123"
    api.record_insi_result(
        kernel,
        pharmacy,
        patient,
        None,
        api.InsiTraits(
            f"{body}{matricule.key(body):02d}", OID_TEST, "MARTIN-DEMO", ("CAMILLE", "ANNE"), "F", "1985-03-14", "99100"
        ),
    )
    with pytest.raises(IdentityNotShareable):
        datamatrix.for_patient(kernel, pharmacy, patient)
    api.record_identity_document(kernel, pharmacy, patient, None, api.DocumentKind.PASSEPORT)
    payload = datamatrix.for_patient(kernel, pharmacy, patient)
    assert datamatrix.parse(payload).birth_date == "1985-03-14"
    svg = datamatrix.render_svg(payload)
    assert svg.startswith(b"<?xml") and b"<svg" in svg and svg.count(b"<rect") + svg.count(b"<path") > 50
