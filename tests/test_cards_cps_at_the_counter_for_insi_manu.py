"""INSI-MANU at the counter: the pharmacist unlocks their own CPS once (SoftHSM), and each INSi search on patient
selection carries the assertion the card signs, which the INSi sandbox checks against the card holder. Without the
card, or with somebody else's, the pharmacist is told in French and the counter goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import lgo_cards.plugin
import lgo_ins.counter
import lgo_ins.plugin
import pytest
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain.audit import recent
from lgo.domain.patients import create_patient
from lgo.domain.pharmacy import Operator
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo_cards import operator_card, signing
from lgo_cards.errors import CardError
from lgo_ins import assertion, insi
from lgo_sandbox.cps import PIN, RPPS, CpsWorld, cps_world_or_skip

IDAM = "LGO-LIBRE-TEST"


@pytest.fixture(scope="module")
def world() -> CpsWorld:
    return cps_world_or_skip()


@pytest.fixture
def insi_manu(world: CpsWorld) -> Iterator[Any]:
    from lgo.testing.cda import shared_dir
    from lgo_sandbox.insi import start_insi_sandbox

    shared = shared_dir()
    if shared is None:
        _require_or_skip("../shared absent : réponses enregistrées et XSD INSi indisponibles.")
        raise AssertionError("unreachable")
    folder = shared / "conformance" / "services" / "insi"
    server, _service = start_insi_sandbox(
        world.authority,
        responses_dir=folder / "responses",
        schemas_dir=folder / "wsdl" / "xsd",
        known_idams=frozenset({IDAM}),
    )
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_card_left_unlocked() -> Iterator[None]:
    yield
    operator_card._UNLOCKED.clear()  # the process's unlocked cards: none may leak into the next test


@pytest.fixture
def kernel(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, world: CpsWorld, insi_manu: Any) -> Kernel:
    kernel = lgo_make_kernel(lgo_ins.plugin, lgo_cards.plugin)
    pharmacy = lgo_seeded.pharmacy_id
    for name in ("ins", "cards"):
        kernel.enable(pharmacy, name)
    manu = world.authority.organisation("INSI-MANU")
    manu.store_for(kernel, pharmacy, kind="insi")
    kernel.save_plugin_settings(
        pharmacy,
        "ins",
        {
            "insi_endpoint": insi_manu.url,
            "authorisation_number": IDAM,
            "mode": "INSI-MANU",
        },
    )
    kernel.save_plugin_settings(
        pharmacy, "cards", {"pkcs11_module": world.card.module_path, "cps_token_label": world.card.label}
    )
    with kernel.transaction() as session:
        titulaire = session.get(Operator, lgo_seeded.operators["titulaire"])
        assert titulaire is not None
        titulaire.rpps = RPPS  # the fictional pharmacist of the test CPS
    return kernel


def _patient(kernel: Kernel, pharmacy: int) -> int:
    with kernel.transaction() as session:
        return create_patient(
            session, pharmacy, birth_name="TCHITCHI", first_names="CATARINA", sex="F", birth_date="1936-06-21"
        ).id


def test_the_unlocked_cps_signs_each_insi_search_of_its_holder(
    kernel: Kernel, lgo_seeded: Seeded, world: CpsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    pharmacy, titulaire = lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"]
    patient = _patient(kernel, pharmacy)
    counter = Counter(kernel, pharmacy, titulaire)

    (action,) = counter.select_patient(patient)
    assert action.kind == "ins.cps_required" and "carte CPS" in action.message_fr

    holder = operator_card.unlock(kernel, pharmacy, titulaire, PIN)
    assert holder.rpps == RPPS
    try:
        (action,) = counter.select_patient(patient)
        assert action.kind == "ins.insi_result", action.message_fr
        assert action.data["identity"]["matricule"] == "236066322083656"
        with kernel.transaction() as session:
            assert "cards.cps_unlocked" in [entry.action for entry in recent(session, pharmacy, 10)]
    finally:
        operator_card.lock(kernel, pharmacy, titulaire)
    # A later visit (the counter does not call INSi again within RECENT_CALL_SECONDS of its last call):
    monkeypatch.setattr(lgo_ins.counter, "RECENT_CALL_SECONDS", 0)
    (action,) = counter.select_patient(patient)
    assert action.kind == "ins.cps_required"


def test_a_card_signs_only_for_its_holder(kernel: Kernel, lgo_seeded: Seeded) -> None:
    pharmacy, preparatrice = lgo_seeded.pharmacy_id, lgo_seeded.operators["preparatrice"]
    with pytest.raises(CardError, match="ne peut pas signer pour"):
        operator_card.unlock(kernel, pharmacy, preparatrice, PIN)
    (action,) = Counter(kernel, pharmacy, preparatrice).select_patient(_patient(kernel, pharmacy))
    assert action.kind == "ins.cps_required"


def test_the_insi_sandbox_refuses_an_assertion_naming_someone_else_than_the_card_holder(
    world: CpsWorld, insi_manu: Any
) -> None:
    manu = world.authority.organisation("INSI-MANU")
    endpoint = insi.Endpoint(insi_manu.url, manu.client(), str(manu.ca_path), 10.0)
    signer = signing.CardSigner(signing.card_key(world.card.module_path, PIN, token_label=world.card.label))
    forged = assertion.build(signer, national_id="899700999999", billing_id="999000011")
    with pytest.raises(insi.InsiError):
        insi.search_by_traits(
            endpoint,
            insi.Context(IDAM, "LGO libre", "0.1.0", "tests", "tests@lgo"),
            birth_name="TCHITCHI",
            first_names=("CATARINA",),
            sex="F",
            birth_date="1936-06-21",
            assertion=forged,
        )


def test_an_idle_card_locks_itself(kernel: Kernel, lgo_seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    pharmacy, titulaire = lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"]
    clock = [1000.0]

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return clock[0]

    monkeypatch.setattr(operator_card, "time", Clock)
    operator_card.unlock(kernel, pharmacy, titulaire, PIN)  # 30 minutes by default
    clock[0] += 29 * 60
    assert kernel.operator_signer(pharmacy, titulaire) is not None  # used: the delay starts again
    clock[0] += 29 * 60
    assert kernel.operator_signer(pharmacy, titulaire) is not None
    clock[0] += 31 * 60
    assert kernel.operator_signer(pharmacy, titulaire) is None


def test_the_assertion_names_the_card_holder(world: CpsWorld) -> None:
    signer = signing.CardSigner(signing.card_key(world.card.module_path, PIN, token_label=world.card.label))
    assert assertion.holder_id(signer) == f"8{RPPS}"
