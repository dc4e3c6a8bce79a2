"""``lgo demo --web``: the demonstration pharmacy with its sandboxes, the counter served on loopback, the address and
the demo operators' codes printed, until stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def test_lgo_demo_web_serves_the_counter_on_loopback_and_stops(tmp_path: Path) -> None:
    lgo = Path(sys.executable).with_name("lgo")
    environment = {**os.environ, "LGO_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [str(lgo), "demo", "--web", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 240
        address = None
        while address is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"Comptoir : (http://127\.0\.0\.1:\d+/comptoir/)", line)
            address = found.group(1) if found else None
        output = "".join(lines)
        assert address, output
        assert "preparatrice  / officine-demo" in output and "INSi (bac à sable)" in output
        page = httpx.get(address, follow_redirects=True, timeout=30)
        assert page.status_code == 200 and "Connexion" in page.text  # the counter asks who is there
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
