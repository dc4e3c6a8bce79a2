"""Entry point of the ``eordonnance`` plugin."""

from __future__ import annotations

from typing import Any

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, deferred, hookimpl

from lgo_eordonnance.settings import EOrdonnanceSettings

MANIFEST = Manifest(
    name="eordonnance",
    plugin_api=">=2.9,<3",
    distribution="lgo-eordonnance",
    label_fr="Ordonnance numérique",
    description_fr="Ordonnance numérique : QR code, récupération, exécution ligne à ligne, transmission.",
    optional=("ins",),
    capabilities=("eordonnance",),
    provider_capabilities=("eordonnance",),
    settings=EOrdonnanceSettings,
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    counter="lgo_eordonnance.window",
    portable_tables="lgo_eordonnance.portability:portable_tables",
    indicators="lgo_eordonnance.indicators:sources",
    migrations="migrations",
    outbox_status="Ordonnance numérique",
    hooks={"lgo_on_billing_commit": "lgo_eordonnance.service:on_billing_commit"},
)


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    return {
        "eordonnance.dispensing": deferred("lgo_eordonnance.service:deliver_dispensing"),
        "eordonnance.billing": deferred("lgo_eordonnance.service:deliver_billing"),
    }
