"""Appli carte Vitale against the ApCV sandbox over mutual TLS: the beneficiary and its INS come back once; used,
expired or empty data and an unreachable service give French errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lgo_cards import apcv
from lgo_cards.errors import CardError
from lgo_sandbox.apcv import start_apcv_sandbox
from lgo_sandbox.pki import TestAuthority


def test_the_app_data_gives_the_beneficiary_once_with_french_errors(tmp_path: Path) -> None:
    authority = TestAuthority(tmp_path / "pki")
    server, sandbox = start_apcv_sandbox(authority)
    try:
        organisation = authority.organisation("PHARMACIE DU CENTRE")
        endpoint = apcv.Endpoint(server.url, organisation.client(), str(authority.ca_path))
        data = sandbox.present("catarina")
        identity = apcv.identify(endpoint, f" {data}\n")
        assert identity.matricule == "236066322083656" and identity.first_names == ("CATARINA", "BELLA")
        with pytest.raises(CardError, match="déjà utilisées"):
            apcv.identify(endpoint, data)  # one-time data
        with pytest.raises(CardError, match="scannez à nouveau"):
            apcv.identify(endpoint, "  ")
        expired = sandbox.present("catarina", lifetime=-1)
        with pytest.raises(CardError, match="expiré"):
            apcv.identify(endpoint, expired)
    finally:
        server.stop()
    with pytest.raises(CardError, match="injoignable"):
        apcv.identify(endpoint, "APCV1.x")


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        (None, "Lecture illisible"),
        (b"QR", "Lecture illisible"),
        (42, "Lecture illisible"),
        ("   ", "Aucune donnée lue"),
        ("APCV\x00DATA", "pas un QR code de l'appli"),
        ("APCV😀", "pas un QR code de l'appli"),
        ("A" * 5000, "pas un QR code de l'appli"),
    ],
)
def test_impossible_scans_are_refused_in_french_before_any_call(scan: object, message: str) -> None:
    with pytest.raises(CardError, match=message):
        apcv.clean(scan)  # type: ignore[arg-type]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_ten_thousand_random_scans_give_clean_text_or_a_french_error(seed: int) -> None:
    import random

    rng = random.Random(seed)
    alphabet = [*"ABCDEFabcdef0123456789+/=:-_ ", "\n", "\t", "\x00", "\x1d", "é", "😀"]
    for _ in range(1000):  # 10 examples × 1 000 = 10 000 scans
        scan = "".join(rng.choices(alphabet, k=rng.randint(0, 60)))
        try:
            cleaned = apcv.clean(scan)
        except CardError as exc:
            assert exc.message_fr
            continue
        assert cleaned and cleaned.isascii() and cleaned.isprintable() and " " not in cleaned
