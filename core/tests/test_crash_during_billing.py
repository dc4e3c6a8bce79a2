"""A counter killed with SIGKILL in the middle of its billings, on SQLite and PostgreSQL: every invariant holds and
no billing the counter saw validated is lost (a short run; ``benchmarks/crash_billing.py`` is the long one). The
checker is proven on a writer broken on purpose and killed half-way."""

from __future__ import annotations

import os

from lgo.kernel import Kernel
from lgo.testing.crash import kill_during_billing, prepare

#: Kills per backend in the test suite (``LGO_CRASH_KILLS`` for more).
KILLS = int(os.environ.get("LGO_CRASH_KILLS", "5"))


def test_sigkill_during_billings_keeps_every_invariant(lgo_kernel: Kernel) -> None:
    setup = prepare(lgo_kernel)
    messages: list[str] = []
    run = kill_during_billing(lgo_kernel, setup, kills=KILLS, seed=2025, report=messages.append)
    assert run.ok, [str(v) for v in run.violations] + run.lost
    assert run.kills == KILLS and len(messages) == KILLS
    assert run.acknowledged >= KILLS  # each child was killed after validating at least one billing
    assert run.acknowledged <= run.invoices <= run.acknowledged + KILLS


def test_the_checker_catches_a_billing_torn_by_a_kill(lgo_kernel: Kernel) -> None:
    setup = prepare(lgo_kernel)
    run = kill_during_billing(lgo_kernel, setup, kills=1, mode="torn")
    assert not run.ok
    rules = {v.rule for v in run.violations}
    assert {"invoice.equals_its_lines", "audit.one_entry_per_invoice"} <= rules, run.violations
