"""Decoupled sign-in (CIBA, poll mode) for counter workstations, against the real provider."""

from __future__ import annotations

import pytest
from lgo_psc import service
from lgo_psc.errors import SignInRefused
from psc_helpers import TITULAIRE_RPPS, PscWorld


def test_ciba_poll_until_approved(psc_world: PscWorld) -> None:
    request = service.ciba_start(
        psc_world.kernel, psc_world.pharmacy_id, psc_world.titulaire_id, binding_message="COMPTOIR-1"
    )
    assert request.auth_req_id and request.interval >= 1
    pending = psc_world.sandbox.ciba_pending()
    assert [p["accountId"] for p in pending][-1].endswith("8" + TITULAIRE_RPPS)
    # Nothing approved yet: the counter keeps polling.
    assert service.ciba_poll(psc_world.kernel, psc_world.pharmacy_id, psc_world.titulaire_id, request) is None
    psc_world.sandbox.ciba_approve("8" + TITULAIRE_RPPS)  # the pharmacist approves on the e-CPS app
    signed = service.ciba_wait(
        psc_world.kernel, psc_world.pharmacy_id, psc_world.titulaire_id, request, poll_interval=0.2
    )
    assert signed.operator_id == psc_world.titulaire_id and signed.method == "ciba"
    assert service.keep_alive(psc_world.kernel, psc_world.pharmacy_id, signed.handle, force=True)


def test_ciba_denied_on_the_device(psc_world: PscWorld) -> None:
    request = service.ciba_start(psc_world.kernel, psc_world.pharmacy_id, psc_world.titulaire_id)
    psc_world.sandbox.ciba_approve("8" + TITULAIRE_RPPS, deny=True)
    with pytest.raises(SignInRefused, match="refusé"):
        service.ciba_wait(psc_world.kernel, psc_world.pharmacy_id, psc_world.titulaire_id, request, poll_interval=0.2)


def test_ciba_needs_an_rpps(psc_world: PscWorld) -> None:
    with pytest.raises(SignInRefused, match="RPPS"):
        service.ciba_start(psc_world.kernel, psc_world.pharmacy_id, psc_world.seeded.operators["preparatrice"])
