"""What plugins declare to the kernel at start-up, beyond hooks: habilitations, certificate uses and sign-in
methods.

Each kind of name (a habilitation code, an outbox kind, an act code, a CLI command, a web blueprint, a sign-in
method) belongs to one plugin. When two plugins declare the same name, **both** are refused with a reason naming
the other (fail-closed: guessing which one the pharmacy meant could send a document to the wrong service); see
:meth:`lgo.plugins.registry.PluginRegistry.refuse_collisions`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HabilitationDefinition:
    """A right an administrator grants to operators (``dmp.consult``...). ``code`` is dotted and starts with the
    plugin's name; ``default_roles`` get it when an operator of that role is created."""

    code: str
    label_fr: str
    help_fr: str = ""
    default_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class CertificateUsage:
    """A use of the pharmacy's certificate for which the administrator may store a different certificate than the
    organisation one (the « Certificat » page offers a slot per use). ``kind`` is what the plugin passes to
    :func:`lgo.domain.certificates.pharmacy_credential`; it starts with the plugin's name."""

    kind: str
    label_fr: str
    help_fr: str = ""


@dataclass(frozen=True)
class SignInMethod:
    """Another way to sign in than code + password, offered on the sign-in page while the plugin is active.

    ``endpoint`` is the Flask endpoint that starts it (a view of the plugin's blueprint); ``counter_endpoint`` an
    optional variant for a shared counter workstation (e.g. a push to the professional's phone);
    ``logout_endpoint`` the view that also ends the session with the identity provider, used for operators who
    signed in with this method (``auth_method`` is what the plugin stores in the session)."""

    name: str
    label_fr: str
    endpoint: str
    auth_method: str
    counter_endpoint: str | None = None
    counter_label_fr: str = ""
    logout_endpoint: str | None = None
