"""INS traits before INSi: Corsica's birth places, the RNIV transliteration shared with the patient file, and an
INSi answer without a birth place (decision 0302)."""

from __future__ import annotations

from collections.abc import Callable

import lgo_ins.plugin
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lgo.demo_data import Seeded
from lgo.domain.patients import _check_name
from lgo.errors import ValidationError
from lgo.identity import OID_TEST, IdentityNotShareable
from lgo.kernel import Kernel
from lgo_ins import api, insi, matricule
from lgo_ins.model import Status

NS = {"r": insi.NS_RECSANS}
LATIN = [chr(c) for c in range(0xA0, 0x180)]


@pytest.mark.parametrize("place", ["2A020", "2B020", "63220", "99109", "99999"])
def test_the_official_corsican_test_identities_are_searched_with_their_birth_place(place: str) -> None:
    body = insi.traits_body("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", place)
    assert body.findtext("r:LieuNaissance", namespaces=NS) == place


@pytest.mark.parametrize("place", ["12A34", "632A0", "2C020", "00220"])
def test_impossible_birth_places_never_reach_insi(place: str) -> None:
    with pytest.raises(ValidationError, match="lieu de naissance invalide"):
        insi.traits_body("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", place)


@given(st.text(alphabet=st.sampled_from([*LATIN, " ", "-", "'"]), min_size=1, max_size=40))
def test_a_name_the_patient_file_accepts_is_accepted_by_insi(name: str) -> None:
    try:
        stored = _check_name(name, "Nom de naissance").upper()
    except ValidationError:
        return  # refused on the file, in French: never half-accepted
    assert insi.check_trait(stored, "Nom de naissance").isascii()


@pytest.mark.parametrize("letter", ["Æ", "Ø", "Œ", "ß", "Ł", "Đ", "Þ", "ı"])
def test_letters_without_a_decomposition_pass_from_the_file_to_insi(letter: str) -> None:
    stored = _check_name(f"Ma{letter}tin", "Nom de naissance").upper()
    body = insi.traits_body(stored, "CAMILLE", "F", "1985-03-14", None)
    assert body.findtext("r:NomNaissance", namespaces=NS).startswith("MA")


def test_an_insi_answer_without_a_birth_place_is_not_recorded_and_nothing_is_shared(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(lgo_ins.plugin)
    pharmacy, patient = lgo_seeded.pharmacy_id, lgo_seeded.patients["camille"]
    kernel.enable(pharmacy, "ins")
    body = "2850399100123"
    found = api.InsiTraits(
        f"{body}{matricule.key(body):02d}", OID_TEST, "MARTIN-DEMO", ("CAMILLE",), "F", "1985-03-14", None
    )
    with pytest.raises(ValidationError, match="réponse INSi est incomplète \\(lieu de naissance\\)"):
        api.record_insi_result(kernel, pharmacy, patient, None, found)
    api.record_identity_document(kernel, pharmacy, patient, None, api.DocumentKind.PASSEPORT)
    assert api.status(kernel, pharmacy, patient) == Status.VALIDEE
    with pytest.raises(IdentityNotShareable):
        kernel.shareable_identity(pharmacy, patient)
