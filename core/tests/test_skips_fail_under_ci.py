"""Under ``CI`` a skipped test is a failure, whatever skipped it (lgo.testing's suite-wide rule)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SAMPLE = """
import pytest

def test_skipped_in_the_body():
    pytest.skip("serveur absent")

@pytest.mark.skipif(True, reason="marqueur")
def test_skipped_by_a_marker():
    pass

@pytest.mark.xfail(reason="défaut connu")
def test_expected_failure():
    assert False

def test_passing():
    assert True
"""


def _run(tmp_path: Path, ci: bool) -> str:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "lgo.testing",
            "-p",
            "no:cacheprovider",
            "-c",
            "/dev/null",
            str(tmp_path / "test_sample.py"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    return result.stdout.strip().splitlines()[-1]


def test_skips_fail_under_ci_and_stay_skips_elsewhere(tmp_path: Path) -> None:
    assert _run(tmp_path, ci=True).startswith("1 failed, 1 passed, 1 xfailed, 1 error in ")
    outside = _run(tmp_path, ci=False)
    assert outside.startswith("1 passed, 2 skipped, 1 xfailed")
