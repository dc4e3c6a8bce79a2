"""The provider contract a vendor's MSSanté driver must pass (a test kit: shipped code never imports it).

.. code-block:: python

    from lgo_mssante.testing import MssanteProviderContract

    class TestMyProvider(MssanteProviderContract):
        provider = "mon_fournisseur"

        @pytest.fixture
        def provider_under_test(self):
            ...  # yield (driver on a mailbox, a MailAccount of the same provider on an unreachable server)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from lgo.testing.contracts import ProviderContract

from lgo_mssante import message as mail
from lgo_mssante.provider import MailAccount, MailUnavailable, MssanteProvider

if TYPE_CHECKING:
    pass


class MssanteProviderContract(ProviderContract):
    """What every MSSanté provider must do, against a real mail server."""

    capability = "mssante"
    provider = ""

    @pytest.fixture
    def provider_under_test(self) -> Any:
        pytest.fail("MssanteProviderContract: provide the `provider_under_test` fixture", pytrace=False)

    def test_the_driver_follows_the_protocol(self, provider_under_test: tuple[Any, MailAccount]) -> None:
        assert isinstance(provider_under_test[0], MssanteProvider)

    def test_a_message_sent_to_itself_is_fetched_then_marked(
        self, provider_under_test: tuple[MssanteProvider, MailAccount]
    ) -> None:
        driver = provider_under_test[0]
        address = driver.account.address
        message = mail.compose(
            sender=address,
            to=[address],
            subject="Essai de contrat",
            body="Essai.",
            message_id=mail.new_message_id(address),
            product_reference="CONTRAT",
        )
        driver.send(message, [address])
        fetched = [f for f in driver.fetch_new(max_bytes=10_000_000) if f.raw and b"Essai de contrat" in f.raw]
        assert len(fetched) == 1
        driver.mark(fetched[0].uid, "integre")
        assert not [f for f in driver.fetch_new(max_bytes=10_000_000) if f.uid == fetched[0].uid]

    def test_an_unreachable_server_is_a_retryable_error_in_french(
        self, provider_under_test: tuple[MssanteProvider, MailAccount]
    ) -> None:
        from lgo.api import load_provider

        factory = load_provider(self.capability, self.provider)
        driver = factory(provider_under_test[1], None)
        with pytest.raises(MailUnavailable) as down:
            driver.send(
                mail.compose(
                    sender=driver.account.address,
                    to=[driver.account.address],
                    subject="x",
                    body="x",
                    message_id="<x@lgo.invalid>",
                    product_reference="CONTRAT",
                ),
                [driver.account.address],
            )
        assert down.value.message_fr
