"""Providers: interchangeable back-ends of one capability (e.g. secure mail: Mailiz or an organisational
mailbox) registered as stevedore drivers in the entry-point group ``lgo.providers.<capability>``.

The capability's protocol (a ``typing.Protocol``) belongs to the plugin that owns the capability; the kernel
only knows names, stores which one each pharmacy selected, and loads it.
"""

from __future__ import annotations

import logging
from typing import Any

from stevedore import DriverManager

from lgo.errors import ProviderError

log = logging.getLogger(__name__)


def provider_group(capability: str) -> str:
    return f"lgo.providers.{capability}"


def available(capability: str) -> list[str]:
    """Installed provider names for a capability, read from the entry points without importing any driver (a
    driver that fails to import says so, in French, when it is loaded)."""
    from importlib.metadata import entry_points

    return sorted({entry_point.name for entry_point in entry_points(group=provider_group(capability))})


def choices_text(capability: str) -> str:
    names = available(capability)
    return ", ".join(f"« {n} »" for n in names) if names else "aucun fournisseur installé"


def check_known(capability: str, name: str) -> None:
    if name not in available(capability):
        raise ProviderError(
            f"Fournisseur « {name} » inconnu pour « {capability} » ; choix possibles : {choices_text(capability)}.",
            detail=f"no entry point {name!r} in group {provider_group(capability)!r}",
        )


def load(capability: str, name: str) -> Any:
    """The driver object (usually a class or a factory) of an installed provider."""
    check_known(capability, name)
    try:
        return DriverManager(provider_group(capability), name, invoke_on_load=False).driver
    except Exception as exc:
        raise ProviderError(
            f"Le fournisseur « {name} » de « {capability} » n'a pas pu être chargé : {exc}",
            detail=repr(exc),
        ) from exc
