"""A real, throwaway PostgreSQL server for tests: ``initdb`` in a temporary folder, ``pg_ctl start`` on a free
loopback port with the socket in that folder, fast but unsafe durability settings, removed on ``stop()``.

PostgreSQL refuses to run as root: when the tests run as root, the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def find_postgres_bindir() -> Path | None:
    """The folder of ``initdb``: on the PATH, else the newest ``/usr/lib/postgresql/*/bin`` (Debian)."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_postgres_bindir()
        self._dir: Path | None = None
        self._port: int | None = None
        self._running = False

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        if self.bindir is None or not (self.bindir / "initdb").exists():
            raise PostgresUnavailable("initdb not found (install the Debian package 'postgresql')")
        self._dir = Path(tempfile.mkdtemp(prefix="lgo-pg-"))
        self._dir.chmod(0o755)
        data = self._dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self._dir, "postgres", "postgres")
            self._dir.chmod(0o700)
        initdb = [str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        try:
            self._run([*initdb, "--locale=C.UTF-8"])
        except PostgresUnavailable:
            shutil.rmtree(data, ignore_errors=True)
            self._run([*initdb, "--no-locale"])
        self._port = _free_port()
        options = (
            f"-p {self._port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self._running = True
        atexit.register(self.stop)

    def stop(self) -> None:
        if self._dir is None:
            return
        if self._running and self.bindir is not None:
            with contextlib.suppress(PostgresUnavailable):
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self._dir / "data"), "-m", "immediate", "-w", "stop"])
            self._running = False
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- use -------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise PostgresUnavailable("server not started")
        return self._port

    @property
    def log_file(self) -> Path:
        assert self._dir is not None
        return self._dir / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str, template: str | None = None) -> str:
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # --- internals -------------------------------------------------------------------------------------

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql.encode())  # identifiers built here, never from user input

    def _run(self, command: list[str]) -> None:
        if os.geteuid() == 0:
            runner = shutil.which("runuser")
            command = (
                [runner, "-u", "postgres", "--", *command]
                if runner
                else ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in command)]
            )
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")
        if result.returncode != 0:
            tail = ""
            if self._dir is not None and (self._dir / "server.log").exists():
                tail = (self._dir / "server.log").read_text(errors="replace")[-2000:]
            raise PostgresUnavailable(
                f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}\n{tail}"
            )
