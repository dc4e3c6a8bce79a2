"""Providers: interchangeable back-ends of one capability (e.g. secure mail: Mailiz or an organisational
mailbox) registered as stevedore drivers in the entry-point group ``lgo.providers.<capability>``.

The capability's protocol (a ``typing.Protocol``) belongs to the plugin that owns the capability; the kernel
only knows names, stores which one each pharmacy selected, and loads it.
"""

from __future__ import annotations

import logging
from typing import Any

from stevedore import DriverManager, ExtensionManager

from lgo.errors import ProviderError

log = logging.getLogger(__name__)


def provider_group(capability: str) -> str:
    return f"lgo.providers.{capability}"


def available(capability: str) -> list[str]:
    """Installed provider names for a capability. Provider modules must be cheap to import, like plugin
    modules; one that fails to import is logged and left out of the choices."""
    manager: ExtensionManager[Any] = ExtensionManager(provider_group(capability), on_load_failure_callback=_log_failure)
    return sorted(manager.names())


def _log_failure(_manager: ExtensionManager[Any], entry_point: Any, exc: BaseException) -> None:
    log.error("provider %s (%s) failed to import: %r", entry_point.name, entry_point.value, exc)


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
