"""``lgo.testing``: an opt-in pytest plugin for the kernel, our plugins and vendors' plugins.

Activate it with ``-p lgo.testing`` or ``pytest_plugins = ["lgo.testing"]``. Fixtures:

* ``lgo_database_url`` — a fresh, migrated database per test, parametrised over SQLite and a real PostgreSQL
  server started for the session (skipped with a message when PostgreSQL is not installed, a failure when the
  ``CI`` environment variable is set);
* ``lgo_kernel`` — a started :class:`lgo.kernel.Kernel` on that database, strict (plugin exceptions re-raise),
  with no installed plugin discovered; ``lgo_make_kernel(*plugins, ...)`` builds one with the plugins you name;
* ``lgo_seeded`` — the fictional pharmacy of :mod:`lgo.demo_data` written to the database.

Also: :mod:`lgo.testing.contracts` (the contract kit a plugin passes), :mod:`lgo.testing.fakes` (an identity plugin
double that records events), :mod:`lgo.testing.cda` (the ANS CDA kit), :mod:`lgo.testing.dists` (fake installed
distributions) and :mod:`lgo.testing.postgres` (a disposable PostgreSQL server).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lgo.demo_data import Seeded
    from lgo.kernel import Kernel
    from lgo.testing.postgres import PostgresServer

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs on a real PostgreSQL server")
    # Declared here too so that a suite using it still runs where pytest-xdist is not installed (a tox env).
    config.addinivalue_line("markers", "xdist_group(name): tests sharing a machine-wide resource run in one process")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under ``CI`` every skip is a failure, whatever raised it (``pytest.skip``, a ``skipif`` marker, a fixture):
    CI must run each test, and a missing server or conformance kit is a broken set-up, not a pass. ``xfail`` is not
    a skip and keeps its meaning."""
    report = yield
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"Test ignoré sous CI (interdit) : {reason}"
    return report


def _require_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must run these tests, not skip them.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def lgo_postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole test session."""
    from lgo.testing.postgres import PostgresServer, PostgresUnavailable, find_postgres_bindir

    if find_postgres_bindir() is None:
        _require_or_skip("PostgreSQL n'est pas installé (paquet Debian « postgresql ») : tests PostgreSQL ignorés")
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        _require_or_skip(f"PostgreSQL n'a pas démarré : {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _lgo_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lgo.kernel import Kernel

    path = tmp_path_factory.mktemp("lgo-template") / "template.sqlite"
    kernel = Kernel(f"sqlite:///{path}", discover_installed=False)
    kernel.upgrade_database()
    kernel.close()
    with sqlite3.connect(path) as connection:  # fold the WAL into the file so that a copy is complete
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def _lgo_postgres_template(lgo_postgres: PostgresServer) -> str:
    from lgo.kernel import Kernel

    url = lgo_postgres.create_database("lgo_template")
    kernel = Kernel(url, discover_installed=False)
    kernel.upgrade_database()
    kernel.close()
    return "lgo_template"


@pytest.fixture
def lgo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data folder (secret key, SQLite files) for one test."""
    home = tmp_path / "lgo-home"
    home.mkdir()
    monkeypatch.setenv("LGO_HOME", str(home))
    monkeypatch.delenv("LGO_SECRET_KEY", raising=False)
    monkeypatch.delenv("LGO_DATABASE_URL", raising=False)
    return home


@pytest.fixture(params=BACKENDS)
def lgo_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def lgo_database_url(lgo_backend: str, lgo_home: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database with the kernel's migrations applied, on the backend of ``lgo_backend``."""
    if lgo_backend == "sqlite":
        template: Path = request.getfixturevalue("_lgo_sqlite_template")
        path = lgo_home / "lgo.sqlite"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("lgo_postgres")
    template_name: str = request.getfixturevalue("_lgo_postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name, template=template_name)
    yield url
    server.drop_database(name)


@pytest.fixture
def lgo_make_kernel(lgo_database_url: str) -> Iterator[Callable[..., Kernel]]:
    """Build started kernels on the test database: ``lgo_make_kernel(plugin_a, plugin_b, strict=True)``.
    Plugin migrations are applied."""
    from lgo.kernel import Kernel

    made: list[Kernel] = []

    def make(*plugins: Any, strict: bool = True, discover_installed: bool = False) -> Kernel:
        kernel = Kernel(lgo_database_url, strict=strict, discover_installed=discover_installed, extra_plugins=plugins)
        kernel.upgrade_database()
        kernel.start()
        made.append(kernel)
        return kernel

    yield make
    for kernel in made:
        kernel.close()


@pytest.fixture
def lgo_kernel(lgo_make_kernel: Callable[..., Kernel]) -> Kernel:
    return lgo_make_kernel()


@pytest.fixture
def lgo_seeded(lgo_kernel: Kernel) -> Seeded:
    from lgo.demo_data import seed

    with lgo_kernel.transaction() as session:
        return seed(session)
