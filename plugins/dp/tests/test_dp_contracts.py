"""Our plugin passes the plugin contract kit, and the sandbox driver the transport contract a vendor's driver must
pass (against the DP sandbox, over HTTPS with mutual TLS)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import lgo_dp.plugin
import pytest
from lgo.api import TlsEndpoint
from lgo.demo_data import cip13
from lgo.identifiers import nir_key, with_luhn
from lgo.identity import OID_TEST
from lgo.testing.contracts import PluginContract
from lgo_dp.json_driver import JsonHttpsTransport
from lgo_dp.testing import DpContractWorld, DpTransportContract
from lgo_dp.transport import DpPatient
from lgo_sandbox.dp import start_dp_sandbox
from lgo_sandbox.pki import TestAuthority


class TestDpPluginContract(PluginContract):
    plugin = lgo_dp.plugin


_numbers = itertools.count(1)


def _new_patient() -> DpPatient:
    body = f"2850399{next(_numbers):06d}"
    return DpPatient(f"{body}{nir_key(body):02d}", OID_TEST, "CONTRAT", ("ANNE",), "F", "1985-03-14")


class TestJsonHttpsTransportContract(DpTransportContract):
    provider = "json"

    @pytest.fixture
    def dp_contract(self, dp_authority: TestAuthority) -> Iterator[DpContractWorld]:
        authority = dp_authority
        server, sandbox = start_dp_sandbox(authority)
        here, there = with_luhn("99000011"), with_luhn("99000012")

        def driver(finess: str, url: str = server.url) -> JsonHttpsTransport:
            credential = authority.organisation("DP", finess=finess, organisation=f"PHARMACIE {finess}")
            return JsonHttpsTransport(TlsEndpoint(url, credential.client(), str(credential.ca_path), 3.0))

        yield DpContractWorld(
            driver=driver(here),
            other=driver(there),
            unreachable=driver(here, "https://localhost:9"),
            finess=here,
            other_finess=there,
            new_patient=_new_patient,
            cip13=cip13("3000011"),
            publish=lambda: sandbox.publish("rappel", "Rappel du contrat", "Lot retiré.", products=[]),
        )
        server.stop()
