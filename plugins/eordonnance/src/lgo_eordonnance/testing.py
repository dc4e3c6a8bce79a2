"""The transport contract a vendor's ordonnance numérique driver must pass.

.. code-block:: python

    from lgo_eordonnance.testing import EOrdonnanceTransportContract

    class TestMyTransport(EOrdonnanceTransportContract):
        provider = "mon_pilote"

        @pytest.fixture
        def transport_under_test(self):
            ...  # yield (driver object, identifier of a prescription it can retrieve)
"""

from __future__ import annotations

from typing import Any

import pytest
from lgo.testing.contracts import ProviderContract

from lgo_eordonnance import identifier as ident
from lgo_eordonnance.transport import EOrdonnanceTransport, PrescriptionRefused


class EOrdonnanceTransportContract(ProviderContract):
    capability = "eordonnance"
    provider = "json"

    @pytest.fixture
    def transport_under_test(self) -> Any:
        pytest.fail("EOrdonnanceTransportContract: provide the `transport_under_test` fixture", pytrace=False)

    def test_the_driver_follows_the_protocol(self, transport_under_test: tuple[Any, str]) -> None:
        assert isinstance(transport_under_test[0], EOrdonnanceTransport)

    def test_a_prescription_is_retrieved_with_its_lines(self, transport_under_test: tuple[Any, str]) -> None:
        driver, known = transport_under_test
        prescription = driver.retrieve(known)
        assert prescription.identifier == known and prescription.lines and prescription.prescribed_on

    def test_an_unknown_prescription_is_refused_in_french(self, transport_under_test: tuple[Any, str]) -> None:
        with pytest.raises(PrescriptionRefused) as refused:
            transport_under_test[0].retrieve(ident.make("ZZZZZZZZZZZZZZ"))
        assert refused.value.message_fr

    def test_sending_twice_with_the_same_key_records_one_execution(self, transport_under_test: tuple[Any, str]) -> None:
        driver, known = transport_under_test
        line = driver.retrieve(known).lines[0]
        execution = {"renewal_number": 0, "lines": [{"line_id": line.line_id, "kind": "partial", "quantity": 0}]}
        first = driver.send_dispensing(known, execution, idempotency_key="contrat-1")
        assert driver.send_dispensing(known, execution, idempotency_key="contrat-1") == first
