from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lgo_dmp.plugin
import pytest
from dmp_helpers import DmpWorld, FakeIdentityPlugin
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from lgo_sandbox.pki import TestAuthority


@pytest.fixture(scope="session")
def dmp_authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("dmp-pki"))


@pytest.fixture
def dmp_sandbox(dmp_authority: TestAuthority) -> Iterator[tuple[Any, Any]]:
    from lgo.testing.cda import shared_dir
    from lgo_sandbox.dmp import start_dmp_sandbox

    shared = shared_dir()
    server, sandbox = start_dmp_sandbox(
        dmp_authority, seed=7, conformance_dir=shared / "conformance" if shared else None
    )
    yield server, sandbox
    server.stop()


@pytest.fixture
def dmp_world(
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
    dmp_authority: TestAuthority,
    dmp_sandbox: tuple[Any, Any],
    lgo_home: Path,
) -> DmpWorld:
    identity = FakeIdentityPlugin()
    kernel = lgo_make_kernel(lgo_dmp.plugin, identity)
    for name in ("fake_ins", "dmp"):
        kernel.enable(lgo_seeded.pharmacy_id, name)
    with kernel.transaction() as session:
        from lgo.domain.pharmacy import Pharmacy

        pharmacy = session.get(Pharmacy, lgo_seeded.pharmacy_id)
        assert pharmacy is not None
        finess = pharmacy.finess
    organisation = dmp_authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
    server, sandbox = dmp_sandbox
    organisation.store_for(kernel, lgo_seeded.pharmacy_id)  # the « Certificat » page: nothing else to configure
    kernel.save_plugin_settings(lgo_seeded.pharmacy_id, "dmp", {"endpoint": server.url})
    return DmpWorld(kernel, lgo_seeded, identity, sandbox)
