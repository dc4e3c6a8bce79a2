"""The transport contract a vendor's Dossier Pharmaceutique driver must pass.

A vendor who holds the DP specification writes a driver (entry point in ``lgo.providers.dp``) and proves it behaves as
the plugin expects by subclassing :class:`DpTransportContract` against its test environment:

.. code-block:: python

    from lgo_dp.testing import DpContractWorld, DpTransportContract

    class TestMyDriver(DpTransportContract):
        provider = "mon_pilote"

        @pytest.fixture
        def dp_contract(self):
            yield DpContractWorld(driver=..., other=..., unreachable=..., finess=..., other_finess=...,
                                  new_patient=..., cip13=...)

Imported by tests only (never by shipped code).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from lgo.testing.contracts import ProviderContract

from lgo_dp.transport import (
    DispensedLine,
    DpPatient,
    DpRefused,
    DpTransport,
    DpUnavailable,
    FileState,
    Professional,
    Refusal,
)


@dataclass
class DpContractWorld:
    #: The driver under test, as this pharmacy.
    driver: DpTransport
    #: The same DP reached as another pharmacy (another certificate).
    other: DpTransport
    #: A driver pointed at an address where nothing answers.
    unreachable: DpTransport
    finess: str
    other_finess: str
    #: A patient with a qualified INS the DP does not know yet (a new one at each call).
    new_patient: Callable[[], DpPatient]
    #: A CIP13 the DP accepts.
    cip13: str
    professional: Professional = field(
        default_factory=lambda: Professional("Claire DURAND", "pharmacien titulaire", "10000000006")
    )
    #: Publishes a recall to every pharmacy, when the test environment allows it.
    publish: Callable[[], str] | None = None


def _line(world: DpContractWorld, *, days_ago: int = 3, lot: str = "LOT-A") -> DispensedLine:
    return DispensedLine(
        reference=f"{world.finess}-contrat-{uuid.uuid4().hex[:10]}",
        dispensed_on=datetime.now(UTC).date() - timedelta(days=days_ago),
        cip13=world.cip13,
        label="PRODUIT DU CONTRAT",
        quantity=2,
        lot=lot,
    )


class DpTransportContract(ProviderContract):
    capability = "dp"
    provider = "json"

    @pytest.fixture
    def dp_contract(self) -> DpContractWorld:
        pytest.fail("DpTransportContract: provide the `dp_contract` fixture", pytrace=False)

    def _opened(self, world: DpContractWorld) -> DpPatient:
        patient = world.new_patient()
        assert world.driver.create(patient, world.professional, idempotency_key=uuid.uuid4().hex).state is (
            FileState.ACTIVE
        )
        return patient

    def test_the_driver_follows_the_protocol(self, dp_contract: DpContractWorld) -> None:
        assert isinstance(dp_contract.driver, DpTransport)

    def test_a_new_patient_has_no_file_and_creating_twice_gives_one_open_file(
        self, dp_contract: DpContractWorld
    ) -> None:
        world = dp_contract
        patient = world.new_patient()
        assert world.driver.file(patient, world.professional).state is FileState.NONE
        with pytest.raises(DpRefused) as refused:
            world.driver.feed(patient, [_line(world)], idempotency_key=uuid.uuid4().hex)
        assert refused.value.code == Refusal.NO_FILE and refused.value.message_fr
        for _ in range(2):
            assert world.driver.create(patient, world.professional, idempotency_key=uuid.uuid4().hex).state is (
                FileState.ACTIVE
            )
        assert world.other.file(patient, world.professional).state is FileState.ACTIVE

    def test_lines_of_every_pharmacy_come_back_once_with_their_pharmacy_and_lot(
        self, dp_contract: DpContractWorld
    ) -> None:
        world = dp_contract
        patient = self._opened(world)
        mine, theirs = _line(world, lot="LOT-ICI"), _line(world, lot="LOT-AILLEURS", days_ago=30)
        theirs = replace(theirs, reference=f"{world.other_finess}-contrat-{uuid.uuid4().hex}")
        for _ in range(2):  # a retry with the same key, then the same line under a new key: recorded once
            world.driver.feed(patient, [mine], idempotency_key="contrat-envoi-1")
        world.driver.feed(patient, [mine], idempotency_key="contrat-envoi-2")
        world.other.feed(patient, [theirs], idempotency_key="contrat-envoi-3")
        history = world.driver.history(patient, world.professional, date.today() - timedelta(days=365))
        found = {(line.reference, line.pharmacy_finess, line.lot) for line in history}
        assert found == {
            (mine.reference, world.finess, "LOT-ICI"),
            (theirs.reference, world.other_finess, "LOT-AILLEURS"),
        }
        assert all(line.pharmacy_name for line in history)

    def test_a_correction_replaces_the_line_and_a_masked_line_is_no_longer_shown(
        self, dp_contract: DpContractWorld
    ) -> None:
        world = dp_contract
        patient = self._opened(world)
        first, second = _line(world), _line(world, lot="LOT-B")
        world.driver.feed(patient, [first, second], idempotency_key=uuid.uuid4().hex)
        fixed = replace(_line(world), quantity=1, replaces=first.reference)
        world.driver.feed(patient, [fixed], idempotency_key=uuid.uuid4().hex)
        world.driver.mask(patient, world.professional, [second.reference], idempotency_key=uuid.uuid4().hex)
        history = world.driver.history(patient, world.professional, date.today() - timedelta(days=365))
        assert [(line.reference, line.quantity) for line in history] == [(fixed.reference, 1)]

    def test_a_refusal_and_a_closing_stop_the_recording(self, dp_contract: DpContractWorld) -> None:
        world = dp_contract
        refusing = world.new_patient()
        file = world.driver.refuse(refusing, world.professional, date.today(), idempotency_key=uuid.uuid4().hex)
        assert file.state is FileState.REFUSED and file.refused_on == date.today()
        with pytest.raises(DpRefused) as refused:
            world.other.feed(refusing, [_line(world)], idempotency_key=uuid.uuid4().hex)
        assert refused.value.code == Refusal.REFUSED
        closing = self._opened(world)
        assert world.driver.close(closing, world.professional, idempotency_key=uuid.uuid4().hex).state is (
            FileState.CLOSED
        )
        for call in (
            lambda: world.driver.feed(closing, [_line(world)], idempotency_key=uuid.uuid4().hex),
            lambda: world.driver.history(closing, world.professional, date.today() - timedelta(days=30)),
        ):
            with pytest.raises(DpRefused) as closed:
                call()
            assert closed.value.code == Refusal.CLOSED

    def test_other_traits_for_the_same_ins_are_refused(self, dp_contract: DpContractWorld) -> None:
        world = dp_contract
        patient = self._opened(world)
        impostor = replace(patient, birth_date="1900-01-01")
        with pytest.raises(DpRefused) as refused:
            world.driver.history(impostor, world.professional, date.today() - timedelta(days=30))
        assert refused.value.code == Refusal.TRAITS

    def test_an_unreachable_dp_is_a_french_error_to_retry(self, dp_contract: DpContractWorld) -> None:
        world = dp_contract
        with pytest.raises(DpUnavailable) as down:
            world.unreachable.history(world.new_patient(), world.professional, date.today())
        assert "DP" in down.value.message_fr or "Dossier Pharmaceutique" in down.value.message_fr

    def test_bulletins_are_listed_after_a_cursor_and_acknowledged(self, dp_contract: DpContractWorld) -> None:
        world = dp_contract
        if world.publish is not None:
            world.publish()
        found, cursor = world.driver.bulletins(None)
        if world.publish is not None:
            assert found, "a published recall must be listed"
        again, _ = world.driver.bulletins(cursor)
        assert not {b.id for b in again} & {b.id for b in found}
        for bulletin in found[-1:]:
            assert bulletin.title and bulletin.kind
            world.driver.acknowledge(
                bulletin.id, world.professional, datetime.now(UTC), idempotency_key=uuid.uuid4().hex
            )
