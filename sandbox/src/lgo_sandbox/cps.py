"""Test helpers shared by this plugin's tests, the repository's cross-plugin tests and the demo.

SoftHSM reads its configuration once per process (when the PKCS#11 module is loaded), so the test CPS lives in ONE
folder per process: :func:`make_test_cps` creates it on first use (test authority, a pharmacist's CPS and a token that
is not a CPS) and removes it at exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgo_sandbox import softhsm

#: The fictional pharmacist of the test CPS (RPPS test range 997…: CN = 899700…, as on IGC-Santé TEST cards).
RPPS = "99700123456"
GIVEN_NAME = "CLAIRE"
SURNAME = "DURAND-TEST"
CPS_LABEL = "CPS DURAND-TEST"
OTHER_LABEL = "JETON SANS CPS"
PIN = "1234"

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


@dataclass(frozen=True)
class CpsWorld:
    directory: Path
    authority: Any  # lgo_sandbox.pki.TestAuthority
    card: softhsm.TestCard
    other_label: str


def cps_world_or_skip() -> CpsWorld:
    """The test CPS for a test, or a skip saying what SoftHSM lacks (a failure under ``CI``)."""
    from lgo.testing import _require_or_skip

    missing = softhsm.available()
    if missing:
        _require_or_skip(f"SoftHSM indisponible : {missing} ; tests de la CPS ignorés.")
    return make_test_cps()


def make_test_cps(directory: Path | None = None, *, rpps: str = RPPS) -> CpsWorld:
    """The process's test CPS (created on first call, in ``directory`` or a temp folder removed at exit), held by
    the professional ``rpps`` (the demo gives its titulaire's; the first call decides)."""
    with _LOCK:
        if "world" in _STATE:
            world: CpsWorld = _STATE["world"]
            return world
        from lgo_sandbox.pki import TestAuthority

        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="lgo-cps-"))
            atexit.register(shutil.rmtree, directory, True)
        directory.mkdir(parents=True, exist_ok=True)
        authority = TestAuthority(directory / "pki")
        auth = authority.person(rpps, given_name=GIVEN_NAME, surname=SURNAME, tag="-auth")
        sign = authority.person(rpps, given_name=GIVEN_NAME, surname=SURNAME, tag="-sign")
        softhsm.use_config(directory / "softhsm")
        tokens = directory / "softhsm" / "tokens"
        for child in tokens.iterdir():  # the demo reuses its folder: start from clean tokens
            shutil.rmtree(child, ignore_errors=True)
        card = softhsm.provision(
            directory,
            CPS_LABEL,
            authentication=(auth.cert_path, auth.key_path),
            signature=(sign.cert_path, sign.key_path),
            pin=PIN,
        )
        # A token without CPS certificates: "unknown card".
        softhsm.provision(directory, OTHER_LABEL, authentication=None, signature=None, pin=PIN)
        world = CpsWorld(directory, authority, card, OTHER_LABEL)
        _STATE["world"] = world
        return world
