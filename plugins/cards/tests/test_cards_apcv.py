"""Appli carte Vitale against the ApCV sandbox over mutual TLS: the beneficiary and its INS come back once; used,
expired or empty data and an unreachable service give French errors."""

from __future__ import annotations

from pathlib import Path

import pytest
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
