"""The INS Datamatrix on its edges: impossible content refused in French, the symbol sized for the longest legal
traits (and read back by an independent decoder), and ≥ 10 000 random or mutated payloads: never a crash, never an
invalid identity accepted."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from lgo.api import PartialDate, identifiers, traits
from lgo.errors import ValidationError
from lgo.identity import OID_NIR, OID_TEST
from lgo_ins import datamatrix, matricule
from lgo_ins.datamatrix import GS, HEADER, DatamatrixIdentity

BODY = "297022A020778"[:13]
VALID = DatamatrixIdentity(
    f"{BODY}{matricule.key(BODY):02d}", OID_NIR, "DOMINIQUE", "ADRTROIS", "F", "1997-02-26", "2A020"
)
PAYLOAD = datamatrix.build(VALID)


def _with(**changes: str) -> str:
    fields = datamatrix.fields(PAYLOAD)
    fields.update(changes)
    parts = [HEADER]
    for identifier, value in fields.items():
        parts.append(identifier + value + (GS if identifier in ("S2", "S3", "S4") else ""))
    return "".join(parts)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"S6": "31-02-1997"}, "Date de naissance invalide"),
        ({"S6": "99-99-1997"}, "naissance invalide"),
        ({"S6": "26-02-0000"}, "Année de naissance invalide"),
        ({"S6": "26/02/1997"}, "Date de naissance illisible"),
        ({"S1": f"{BODY}00"}, "la clé ne correspond pas"),
        ({"S1": "29702ZA02077878"}, "Matricule INS invalide"),
        ({"S1": "ABCDEFGHIJKLMNO"}, "Matricule INS invalide"),
        ({"S2": "1.2.3.4.5"}, "Autorité d'affectation de l'INS inconnue"),
        ({"S3": "DOMI\x00NIQUE"}, "caractères de contrôle"),
        ({"S4": "ADR\x7fTROIS"}, "Nom de naissance invalide"),
        ({"S3": "DOMINIQUE😀"}, "non ASCII"),
        ({"S4": "ADR3"}, "Nom de naissance invalide"),
        ({"S7": "NICE1"}, "lieu de naissance invalide"),
        ({"S7": "12A34"}, "lieu de naissance invalide"),
        ({"S5": "X"}, "sexe illisible"),
    ],
)
def test_impossible_content_is_refused_in_french(change: dict[str, str], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        datamatrix.parse(_with(**change))


@pytest.mark.parametrize("scan", [None, 42, b"IS01", ["IS01"], 3.5])
def test_a_scan_that_is_not_text_gets_a_french_error(scan: object) -> None:
    with pytest.raises(ValidationError, match="texte attendu"):
        datamatrix.parse(scan)  # type: ignore[arg-type]


def _decoded(payload: str) -> str:
    """What an independent reader (zxing-cpp) reads from the symbol's modules."""
    modules = np.array(datamatrix.modules(payload), dtype=np.uint8)
    image = np.pad(np.kron(1 - modules, np.ones((5, 5), dtype=np.uint8)) * 255, 25, constant_values=255)
    (found,) = zxingcpp.read_barcodes(image)
    return str(found.text).replace("<GS>", GS)


LONGEST = [
    ("A" * 100, "B" * 100),
    (("JEAN-PIERRE " * 8)[:90] + "MARIE-JOSE", "D'ARTAGNAN-" * 9 + "D"),
    ("A'B-" * 24 + "ABCD", "O'C-" * 24 + "ABCD"),
]


@pytest.mark.parametrize(("first", "last"), LONGEST)
def test_the_longest_legal_names_render_in_a_symbol_big_enough_and_read_back(first: str, last: str) -> None:
    identity = DatamatrixIdentity(VALID.matricule, OID_TEST, first, last, "I", "2024-00-00", "99999")
    payload = datamatrix.build(identity)
    assert len(identity.first_names) == len(identity.birth_name) == 100 and len(payload) > 280
    assert _decoded(payload) == payload
    assert len(datamatrix.modules(payload)) in (52, 64)
    svg = datamatrix.render_svg(payload)
    assert svg.startswith(b"<?xml") and b"<svg" in svg


def test_a_short_payload_keeps_a_small_symbol() -> None:
    assert _decoded(PAYLOAD) == PAYLOAD
    assert len(datamatrix.modules(PAYLOAD)) <= 40


def _accepted_is_valid(identity: DatamatrixIdentity) -> None:
    assert identifiers.check_matricule(identity.matricule) == identity.matricule
    assert matricule.check_oid(identity.oid) == identity.oid
    assert traits.ins_name(identity.first_names) == identity.first_names
    assert traits.ins_name(identity.birth_name) == identity.birth_name
    assert identity.sex in ("M", "F", "I")
    assert str(PartialDate.parse(identity.birth_date)) == identity.birth_date
    assert identity.birth_place_code is None or traits.is_birth_place(identity.birth_place_code)


def _read(payload: object) -> None:
    try:
        identity = datamatrix.parse(payload)  # type: ignore[arg-type]
    except ValidationError as exc:
        assert exc.message_fr and exc.message_fr[0].isupper()
        return
    _accepted_is_valid(identity)


ALPHABET = [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -'./", GS, "\x00", "\n", "é", "Œ", "😀", "\u202e", "S", "1"]


def _random_payload(rng: random.Random) -> str:
    """Fields in any order, valid-looking or not, with the characters a hostile or broken scan may carry."""
    parts = [HEADER if rng.random() < 0.9 else "".join(rng.choices(ALPHABET, k=26))]
    for _ in range(rng.randint(0, 9)):
        identifier = rng.choice([*datamatrix.FIELDS, "S8", "S0", "XX"])
        value = "".join(rng.choices(ALPHABET, k=rng.randint(0, 40)))
        parts.append(identifier + value + (GS if rng.random() < 0.5 else ""))
    return "".join(parts)


def _mutated_payload(rng: random.Random) -> str:
    """A valid payload (random date, sex, authority, place) with one to three edits: replaced, inserted, cut."""
    payload = _with(
        S6=f"{date(1900, 1, 1) + timedelta(days=rng.randint(0, 73000)):%d-%m-%Y}",
        S5=rng.choice("MFI"),
        S7=rng.choice(["2A004", "2B033", "63220", "99109", "99999"]),
    )
    for _ in range(rng.randint(1, 3)):
        position = rng.randrange(len(payload))
        replacement = "".join(rng.choices(ALPHABET, k=rng.randint(0, 2)))
        payload = payload[:position] + replacement + payload[position + rng.randint(0, 2) :]
    return payload


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_ten_thousand_random_and_mutated_payloads_never_crash_nor_give_an_invalid_identity(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):  # 10 examples × (500 random + 500 mutated) = 10 000 payloads
        _read(_random_payload(rng))
        _read(_mutated_payload(rng))


@given(st.text(max_size=300))
def test_random_text_never_crashes(raw: str) -> None:
    _read(raw)
    _read(HEADER + raw)
