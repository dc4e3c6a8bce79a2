"""Providers selected per pharmacy (stevedore drivers) and plugin settings validated, with secrets encrypted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lgo import hookimpl
from lgo.demo_data import seed
from lgo.domain.plugin_state import PluginSettings
from lgo.errors import ProviderError, ValidationError
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import select

PROVIDERS = """
class Mailiz:
    label = "Mailiz (boîte nominative)"

class Organisationnelle:
    label = "Boîte organisationnelle"
"""


def test_one_provider_per_pharmacy_with_clear_errors(installed: Callable[..., Path], lgo_database_url: str) -> None:
    installed(
        "securemail",
        extra_modules={"lgotest_providers": PROVIDERS},
        extra_entry_points={
            "lgo.providers.securemail": {
                "mailiz": "lgotest_providers:Mailiz",
                "organisationnelle": "lgotest_providers:Organisationnelle",
            }
        },
    )
    kernel = Kernel(lgo_database_url, strict=True).start()
    try:
        with kernel.transaction() as session:
            first = seed(session).pharmacy_id
            second = seed(session, finess="990000028").pharmacy_id

        with pytest.raises(
            ProviderError,
            match=(
                "Aucun fournisseur choisi pour « securemail » ; choix possibles : « mailiz », « organisationnelle »."
            ),
        ):
            kernel.provider(first, "securemail")
        with pytest.raises(
            ProviderError,
            match="Fournisseur « apicrypt » inconnu pour « securemail » ; choix "
            "possibles : « mailiz », « organisationnelle »",
        ):
            kernel.select_provider(first, "securemail", "apicrypt")

        kernel.select_provider(first, "securemail", "mailiz")
        kernel.select_provider(second, "securemail", "organisationnelle")
        assert kernel.provider(first, "securemail").label == "Mailiz (boîte nominative)"
        assert kernel.provider(second, "securemail").label == "Boîte organisationnelle"
        kernel.select_provider(first, "securemail", "organisationnelle")  # switching replaces, never adds
        assert kernel.selected_provider(first, "securemail") == "organisationnelle"
        with pytest.raises(ProviderError, match="aucun fournisseur installé"):
            kernel.select_provider(first, "fax", "x")
    finally:
        kernel.close()


class InsSettings(BaseModel):
    reprompt_count: int = Field(3, ge=0, le=10, description="Relances quand aucune pièce n'est présentée")
    endpoint: str = "https://insi.sandbox.local/insi"
    certificate_passphrase: SecretStr | None = None


class WithSettings:
    MANIFEST = Manifest(name="ins", plugin_api=">=2.0,<3", settings=InsSettings)

    @hookimpl
    def lgo_startup(self, kernel: Kernel) -> None:
        pass


def test_settings_are_validated_and_secrets_never_stored_in_clear(
    lgo_make_kernel: Callable[..., Kernel], lgo_home: Path
) -> None:
    kernel = lgo_make_kernel(WithSettings())
    with kernel.transaction() as session:
        pharmacy = seed(session).pharmacy_id

    defaults = kernel.plugin_settings(pharmacy, "ins")
    assert isinstance(defaults, InsSettings) and defaults.reprompt_count == 3

    with pytest.raises(ValidationError, match="Paramètres de « ins » invalides : reprompt_count"):
        kernel.save_plugin_settings(pharmacy, "ins", {"reprompt_count": 42})
    kernel.save_plugin_settings(pharmacy, "ins", {"reprompt_count": 5, "certificate_passphrase": "s3cret-phrase"})

    with kernel.transaction() as session:
        row = session.scalar(select(PluginSettings))
        assert row is not None
        stored = str(row.values)
    assert "s3cret-phrase" not in stored and "enc:v1:" in stored
    assert (lgo_home / "secret.key").stat().st_mode & 0o777 == 0o600
    loaded = kernel.plugin_settings(pharmacy, "ins")
    assert isinstance(loaded, InsSettings) and loaded.reprompt_count == 5
    assert loaded.certificate_passphrase is not None
    assert loaded.certificate_passphrase.get_secret_value() == "s3cret-phrase"
