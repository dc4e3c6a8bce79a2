"""Shared by the cards tests: the process's test CPS in SoftHSM, or a skip (a failure under CI)."""

from __future__ import annotations

from typing import Any

from lgo.testing import _require_or_skip
from lgo_sandbox.cps import CpsWorld, cps_world_or_skip


def cps_world() -> CpsWorld:
    return cps_world_or_skip()


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
