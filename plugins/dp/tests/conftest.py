from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lgo_dp.plugin
import pytest
from dp_helpers import DpWorld, Identities, make_world
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from lgo_sandbox.pki import TestAuthority


@pytest.fixture(scope="session")
def dp_authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("dp-pki"))


@pytest.fixture
def dp_sandbox(dp_authority: TestAuthority) -> Iterator[tuple[Any, Any]]:
    from lgo_sandbox.dp import start_dp_sandbox

    server, sandbox = start_dp_sandbox(dp_authority)
    yield server, sandbox
    server.stop()


@pytest.fixture
def dp_world(
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
    dp_authority: TestAuthority,
    dp_sandbox: tuple[Any, Any],
    lgo_home: Path,
) -> DpWorld:
    identities = Identities()
    kernel = lgo_make_kernel(lgo_dp.plugin, identities)
    return make_world(kernel, dp_sandbox, dp_authority, lgo_seeded, identities)
