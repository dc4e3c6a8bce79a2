"""Pure mapping of PSC's userinfo claims (the shared ANS samples and fictional pharmacists)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lgo_psc import mapping
from lgo_psc.errors import SignInRefused
from lgo_sandbox.psc import pharmacist_claims


def _samples() -> Path:
    configured = os.environ.get("LGO_CONFORMANCE_DIR")
    if configured:
        return Path(configured) / "services" / "psc"
    for parent in Path(__file__).resolve().parents:
        candidate = parent.parent / "shared" / "conformance" / "services" / "psc"
        if candidate.is_dir():
            return candidate
    from lgo.testing import _require_or_skip

    _require_or_skip("dossier de conformité ../shared absent : échantillons PSC non vérifiés")
    raise AssertionError("unreachable")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_samples() / name).read_text(encoding="utf-8"))
    return data


def test_rpps_from_ans_medecin_sample() -> None:
    claims = _load("userinfo_sample_medecin_KIT_DOC0036624.json")
    pro = mapping.professional(claims)
    assert pro.rpps == "99700366240" and pro.id_nat == "899700366240"
    assert not pro.is_pharmacist and pro.exercises[0].profession == "10"
    assert {a.finess_site for a in pro.exercises[0].activities} == {"", "0B0172805"}


def test_non_rpps_test_account_has_no_rpps() -> None:
    pro = mapping.professional(_load("userinfo_sample_pedicure_ANS_test_account.json"))
    assert pro.rpps is None and pro.exercises[0].profession == "80"


def test_rpps_from_other_ids_when_subject_name_id_is_not_rpps() -> None:
    claims = {"sub": "s", "SubjectNameID": "ANS123", "otherIds": [{"identifiant": "810000000001", "origine": "RPPS"}]}
    assert mapping.rpps_of(claims) == "10000000001"
    assert mapping.rpps_of({"otherIds": [{"identifiant": "10000000001", "origine": "RPPS"}]}) == "10000000001"
    assert mapping.rpps_of({"otherIds": [{"identifiant": "810000000001", "origine": "ADELI"}]}) is None


def test_pharmacist_activity_at_this_pharmacy() -> None:
    pro = mapping.professional(
        {"sub": "x", **pharmacist_claims("10000000001", given_name="Anne", family_name="TEST", finess="990000010")}
    )
    assert pro.is_pharmacist and pro.rpps == "10000000001"
    activity = pro.pharmacy_activity("990000010")
    assert activity is not None and activity.sector == "SA33" and activity.pharmacist_section == "A"
    assert pro.pharmacy_activity("990000028") is None and len(pro.officine_activities) == 1


def test_missing_sub_is_refused() -> None:
    with pytest.raises(SignInRefused):
        mapping.professional({"SubjectNameID": "810000000001"})


@given(st.text(max_size=14))
def test_rpps_from_id_nat_only_for_8_plus_11_digits(value: str) -> None:
    found = mapping.rpps_from_id_nat(value)
    if found is not None:
        assert value == "8" + found and len(found) == 11 and found.isdigit()
