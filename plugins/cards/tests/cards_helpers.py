"""Shared by the cards tests: the process's test CPS in SoftHSM, or a skip (a failure under CI)."""

from __future__ import annotations

from lgo.testing import _require_or_skip
from lgo_cards import softhsm
from lgo_cards.testing import CpsWorld, make_test_cps


def cps_world() -> CpsWorld:
    missing = softhsm.available()
    if missing:
        _require_or_skip(f"SoftHSM indisponible : {missing} ; tests de la CPS ignorés.")
    return make_test_cps()
