"""Our plugin and its JSON-over-HTTPS driver (the sandbox's interface) pass the contract kit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lgo_eordonnance.plugin
import pytest
from lgo.testing.contracts import PluginContract
from lgo_eordonnance.json_driver import JsonHttpsTransport
from lgo_eordonnance.testing import EOrdonnanceTransportContract
from lgo_sandbox.eordonnance import start_eordonnance_sandbox
from lgo_sandbox.pki import TestAuthority


class TestEOrdonnancePluginContract(PluginContract):
    plugin = lgo_eordonnance.plugin


class TestJsonHttpsTransportContract(EOrdonnanceTransportContract):
    provider = "json"

    @pytest.fixture
    def transport_under_test(self, tmp_path: Path) -> Iterator[tuple[Any, str]]:
        authority = TestAuthority(tmp_path / "pki")
        server, _sandbox = start_eordonnance_sandbox(authority)
        credential = authority.organisation("PHARMACIE", finess="999000011")
        yield (
            JsonHttpsTransport(server.url, credential.client(), str(credential.ca_path)),
            "3F8B2N6W4C9H1V7",
        )
        server.stop()
