from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from psc_helpers import PscWorld, build_world, sandbox_accounts


@pytest.fixture(scope="session")
def psc_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lgo.testing import _require_or_skip
    from lgo_sandbox.psc import PscSandboxUnavailable, client, node_available, start_psc_sandbox

    if not node_available():
        _require_or_skip(
            "Node.js et npm absents (paquets Debian « nodejs », « npm ») : tests Pro Santé Connect ignorés"
        )
    accounts, default = sandbox_accounts()
    try:
        sandbox = start_psc_sandbox(
            clients=[
                client(
                    "lgo-test",
                    "secret-de-test",
                    ["http://localhost/plugins/psc/retour"],
                    post_logout_redirect_uris=["http://localhost/plugins/psc/deconnecte"],
                ),
                client(
                    "lgo-test-jwt", "secret-de-test-jwt", ["http://localhost/plugins/psc/retour"], userinfo_jwt=True
                ),
            ],
            accounts=accounts,
            default_account=default,
            workdir=tmp_path_factory.mktemp("psc-op"),
        )
    except PscSandboxUnavailable as exc:
        _require_or_skip(f"Fournisseur Pro Santé Connect de test indisponible : {exc}")
    yield sandbox
    sandbox.stop()


@pytest.fixture
def psc_world(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, psc_sandbox: Any, lgo_home: Path
) -> Iterator[PscWorld]:
    psc_sandbox.set_ttl(id_token=3600, access_token=600, token_delay_ms=0)
    psc_sandbox.next_login(None)
    yield build_world(lgo_make_kernel, lgo_seeded, psc_sandbox)
    psc_sandbox.set_ttl(id_token=3600, access_token=600, token_delay_ms=0)
