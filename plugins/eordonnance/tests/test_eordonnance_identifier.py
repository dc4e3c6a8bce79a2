"""The QR code / typed number parser: strict, with French errors only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lgo.errors import ValidationError
from lgo_eordonnance import identifier as ident

VALID = "3F8B2N6W4C9H1V7"


def test_qr_payload_and_typed_numbers_are_read() -> None:
    assert ident.parse(f"ORDNUM:1:{VALID}") == VALID
    assert ident.parse("3f8b-2n6w 4c9h.1v7") == VALID
    assert ident.parse(VALID.replace("1", "I")) == VALID  # Crockford: I read as 1


@pytest.mark.parametrize(
    ("scanned", "message"),
    [
        ("", "Aucun code"),
        ("IS010000000000000000000000S1123", "pas celui d'une ordonnance"),
        ("https://exemple.fr/qr", "pas celui d'une ordonnance"),
        ("ORDNUM:9:" + VALID, "version non prise en charge"),
        (VALID[:10], "incomplet"),
        (VALID + "AB", "trop long"),
        (VALID[:-1] + "0", "caractère de contrôle"),
        ("3F8B2N6W4C9H1V#", "caractères non autorisés"),
    ],
)
def test_bad_codes_get_a_clear_french_error(scanned: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ident.parse(scanned)


@given(st.text(alphabet=ident.ALPHABET, min_size=14, max_size=14))
def test_every_made_identifier_reads_back(body: str) -> None:
    assert ident.parse(ident.make(body)) == ident.make(body)
    assert ident.parse("ORDNUM:1:" + ident.make(body).lower()) == ident.make(body)


@given(st.text(max_size=40))
def test_random_input_gives_only_clean_validation_errors(scanned: str) -> None:
    try:
        ident.parse(scanned)
    except ValidationError as exc:
        assert exc.message_fr


@given(st.text(alphabet=ident.ALPHABET, min_size=14, max_size=14), st.integers(0, 13), st.sampled_from(ident.ALPHABET))
def test_a_single_typing_error_is_caught(body: str, position: int, char: str) -> None:
    good = ident.make(body)
    typo = good[:position] + char + good[position + 1 :]
    if typo != good:
        with pytest.raises(ValidationError):
            ident.parse(typo)


@pytest.mark.parametrize("scanned", [42, b"ORDNUM:1:3F8B2N6W4C9H1V7", ["x"], 3.5, object()])
def test_a_scan_that_is_not_text_gets_a_french_error(scanned: object) -> None:
    with pytest.raises(ValidationError, match="Code illisible"):
        ident.parse(scanned)  # type: ignore[arg-type]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_ten_thousand_random_and_mutated_scans_never_crash_and_only_valid_numbers_pass(seed: int) -> None:
    import random

    rng = random.Random(seed)
    alphabet = [*ident.ALPHABET, *"ilouIL*~$=-. :", "\x00", "é", "😀", "ORDNUM:1:", "ORDNUM:"]
    for _ in range(1000):  # 10 examples × 1 000 = 10 000 scans, half random and half mutated
        if rng.random() < 0.5:
            scan = "".join(rng.choices(alphabet, k=rng.randint(0, 30)))
        else:
            position = rng.randrange(len(VALID) + 9)
            base = f"ORDNUM:1:{VALID}"
            scan = base[:position] + "".join(rng.choices(alphabet, k=rng.randint(0, 2))) + base[position + 1 :]
        try:
            found = ident.parse(scan)
        except ValidationError as exc:
            assert exc.message_fr
            continue
        assert len(found) == ident.LENGTH and ident.check_symbol(found[:-1]) == found[-1]
