from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lgo.demo_data import Seeded, seed
from lgo.kernel import Kernel
from lgo.testing.dists import on_sys_path
from web_fakes import fake_kernel


@pytest.fixture
def web_site(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "site"
    root.mkdir()
    with on_sys_path(root):
        yield root


@pytest.fixture
def web_kernel(lgo_database_url: str, web_site: Path) -> Iterator[Kernel]:
    kernel = fake_kernel(lgo_database_url, web_site)
    try:
        yield kernel
    finally:
        kernel.close()


@pytest.fixture
def web_seeded(web_kernel: Kernel) -> Seeded:
    with web_kernel.transaction() as session:
        return seed(session)


@pytest.fixture
def web_app(web_kernel: Kernel, web_seeded: Seeded) -> Flask:
    from lgo_web import create_app

    return create_app(web_kernel)


@pytest.fixture
def web_client(web_app: Flask) -> Any:
    from web_fakes import https_client

    return https_client(web_app)
