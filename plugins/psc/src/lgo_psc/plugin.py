"""Entry point of the Pro Santé Connect plugin: migrations, web sign-in pages and demo step."""

from __future__ import annotations

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, SignInMethod, hookimpl

from lgo_psc.settings import PscSettings

MANIFEST = Manifest(
    name="psc",
    plugin_api=">=2.9,<3",
    distribution="lgo-psc",
    label_fr="Pro Santé Connect",
    description_fr="Connexion des opérateurs avec Pro Santé Connect (e-CPS, carte CPS), y compris au poste de "
    "comptoir (validation sur l'application e-CPS).",
    settings=PscSettings,
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    web="lgo_psc.web:blueprint",
    portable_tables="lgo_psc.portability:portable_tables",
    migrations="migrations",
)


@hookimpl
def lgo_register_sign_in_methods() -> list[SignInMethod]:
    return [
        SignInMethod(
            name="psc",
            label_fr="Se connecter avec Pro Santé Connect",
            endpoint="psc.login",
            auth_method="psc",
            counter_endpoint="psc.counter",
            counter_label_fr="Poste de comptoir : valider sur l'application e-CPS",
            logout_endpoint="psc.logout",
        )
    ]
