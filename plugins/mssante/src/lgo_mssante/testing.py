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

import io
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from lgo.api import identifiers
from lgo.testing.contracts import ProviderContract
from lgo.testing.xds import metadata_errors

from lgo_mssante import message as mail
from lgo_mssante.provider import MailAccount, MailUnavailable, MssanteProvider

if TYPE_CHECKING:
    pass

XHTML = "http://www.w3.org/1999/xhtml"


def xdm_errors(archive: bytes) -> list[str]:
    """What is wrong with an ``IHE_XDM.ZIP`` (IHE ITI TF-2, XDM media): METADATA.XML against the ebRIM schemas,
    INDEX.HTM well-formed XHTML linking README.TXT and every document, README.TXT in UTF-8 with the application's
    name and version; empty when all is right."""
    from lxml import etree

    errors: list[str] = []
    with zipfile.ZipFile(io.BytesIO(archive)) as content:
        names = set(content.namelist())
        for required in ("INDEX.HTM", "README.TXT", "IHE_XDM/SUBSET01/METADATA.XML"):
            if required not in names:
                errors.append(f"missing {required}")
        if errors:
            return errors
        metadata = content.read("IHE_XDM/SUBSET01/METADATA.XML")
        errors += metadata_errors(metadata)
        rim = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
        for identifier in etree.fromstring(metadata).iter(f"{{{rim}}}ExternalIdentifier"):
            name = identifier.find(f"{{{rim}}}Name/{{{rim}}}LocalizedString")
            is_source = name is not None and name.get("value") == "XDSSubmissionSet.sourceId"
            if is_source and not identifiers.is_oid(identifier.get("value")):
                errors.append(f"sourceId {identifier.get('value')!r} is not an OID")
        try:
            index = etree.fromstring(content.read("INDEX.HTM"), etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            return [*errors, f"INDEX.HTM is not well-formed XML: {exc}"]
        if index.tag != f"{{{XHTML}}}html":
            errors.append(f"INDEX.HTM root is {index.tag}, not XHTML html")
        links = {str(a.get("href")) for a in index.iter(f"{{{XHTML}}}a")}
        documents = {n for n in names if n.startswith("IHE_XDM/SUBSET01/DOC")}
        if not documents or not documents | {"README.TXT"} <= links:
            errors.append(f"INDEX.HTM links {sorted(links)}, documents {sorted(documents)}")
        try:
            readme = content.read("README.TXT").decode("utf-8")
        except UnicodeDecodeError:
            return [*errors, "README.TXT is not UTF-8"]
        for expected in ("UTF-8", "Application :", "Version de l'application :"):
            if expected not in readme:
                errors.append(f"README.TXT lacks {expected!r}")
    return errors


@pytest.fixture
def checked_xdm_archives(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every archive :func:`lgo_mssante.xdm.build` writes during the test is checked with :func:`xdm_errors`
    (use it autouse in a conftest); yields the archives built."""
    from lgo_mssante import xdm

    built: list[bytes] = []
    original = xdm.build

    def build(*args: Any, **kwargs: Any) -> bytes:
        archive = original(*args, **kwargs)
        errors = xdm_errors(archive)
        assert errors == [], errors
        built.append(archive)
        return archive

    monkeypatch.setattr(xdm, "build", build)
    yield built


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
