"""A bounded soak of the web application and its counter: ``lgo web`` in its own process with every installed module,
four operators signed in at once going through the pages (and a form), the pharmacists billing at the counter, round
after round: no request fails and the server's memory stays flat once warm. ``benchmarks/soak_web.py`` is the long
run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import soak_web  # noqa: E402


# PostgreSQL: the deployment that serves several sessions at once (the pages themselves run on both databases in
# test_web_with_the_real_plugins.py).
@pytest.mark.parametrize("lgo_backend", ["postgresql"])
def test_concurrent_sessions_get_no_error_and_the_server_memory_stays_flat(
    lgo_database_url: str, tmp_path: Path
) -> None:
    # One allocator arena: each sign-in's scrypt (16 MB) lands in an arena, and with two the second one is first
    # used whenever two sign-ins happen to overlap — on a loaded machine sometimes only in the third round (+32 MB
    # seen). With one, the memory of a warm server is flat from the first round whatever the machine does, so a
    # tight margin (4 MB over the last two rounds) shows a leak of Python objects in a short run.
    result = soak_web.run(
        lgo_database_url, tmp_path / "server", sessions=4, rounds=4, cycles=1, arenas=1, slack_kb=4 * 1024
    )
    assert result.errors == [], result.errors
    assert result.rounds == 4 and result.sign_ins == 16
    assert result.billings == 12  # titulaire, adjoint and titulaire again bill once a round; the administrator looks
    assert result.requests >= 16 * 12  # sign-in, at least ten pages, sign-out per cycle
    assert result.memory_stable, result.summary_fr()
