"""``lgo web`` / ``lgo serve``: the page served by the command line, HTTPS away from this computer."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lgo.demo_data import FINESS


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGO_")}
    env["LGO_HOME"] = str(home)
    return env


def lgo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgo.cli", *args], env=_env(home), capture_output=True, text=True, timeout=120
    )


@contextmanager
def running(home: Path, *args: str) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lgo.cli", *args],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "Page d'administration : " in line, line + (process.stderr.read() if process.poll() else "")
        yield line.split(" : ", 1)[1].split(" ")[0].rstrip("/")
    finally:
        process.terminate()
        process.wait(30)


def test_web_and_serve_start_the_page(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert lgo(home, "init", "--name", "Pharmacie du Test", "--finess", FINESS).returncode == 0
    help_text = lgo(home, "--help").stdout
    assert "web" in help_text and "serve" in help_text

    refused = lgo(home, "web", "--host", "0.0.0.0", "--port", "0")
    assert refused.returncode == 2 and "donnez --certificate et --key (HTTPS)" in refused.stderr
    assert "Traceback" not in refused.stderr

    with running(home, "web", "--port", "0") as url:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/connexion", timeout=30) as response:
            page = response.read().decode()
            assert "Pharmacie du Test" in page and "Code opérateur" in page
            assert "HttpOnly" in response.headers["Set-Cookie"]

    from lgo_sandbox.pki import TestAuthority

    server = TestAuthority(tmp_path / "pki").server("admin")
    with running(
        home,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--certificate",
        str(server.cert_path),
        "--key",
        str(server.key_path),
    ) as url:
        assert url.startswith("https://")
        context = ssl.create_default_context(cafile=str(server.ca_path))
        with urllib.request.urlopen(f"{url}/connexion", timeout=30, context=context) as response:
            assert "Secure" in response.headers["Set-Cookie"]


def test_web_before_init_and_on_a_busy_port_says_what_to_do_in_french(tmp_path: Path) -> None:
    import socket

    home = tmp_path / "home"
    early = lgo(home, "web", "--port", "0")
    assert (
        early.returncode == 1
        and "Erreur : La base de l'officine n'existe pas encore : lancez d'abord « lgo init »." in (early.stderr)
    )
    assert "Traceback" not in early.stderr and "Erreur interne" not in early.stderr
    assert lgo(home, "init", "--name", "Pharmacie du Test", "--finess", FINESS).returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = lgo(home, "web", "--port", str(port))
    assert busy.returncode == 1
    assert f"Erreur : Le port {port} est déjà utilisé sur 127.0.0.1" in busy.stderr and "--port" in busy.stderr
    assert "Address already in use" not in busy.stderr and "Traceback" not in busy.stderr
