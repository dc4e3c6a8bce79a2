"""Shared by the cards tests: the process's test CPS in SoftHSM, or a skip (a failure under CI)."""

from __future__ import annotations

from typing import Any

from lgo.testing import _require_or_skip
from lgo_cards import softhsm
from lgo_cards.testing import CpsWorld, make_test_cps


def cps_world() -> CpsWorld:
    missing = softhsm.available()
    if missing:
        _require_or_skip(f"SoftHSM indisponible : {missing} ; tests de la CPS ignorés.")
    return make_test_cps()


def virtual_reader() -> Any:
    """A started private pcscd with the vpcd reader (the caller stops it), or a skip (a failure under CI)."""
    from lgo_sandbox.vitale import VirtualReader

    missing = VirtualReader.missing()
    if missing:
        _require_or_skip(f"Lecteur virtuel indisponible : {missing} ; tests de la carte Vitale ignorés.")
    try:
        return VirtualReader().start()
    except RuntimeError as exc:
        _require_or_skip(f"pcscd n'a pas pu démarrer (un autre pcscd tourne-t-il ?) : {exc}")
        raise
