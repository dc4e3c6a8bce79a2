"""What a field of a plugin's settings model tells the settings page beyond its type, title and description.

* Addresses of national services: :data:`ServiceUrl` is checked (scheme, host) with French messages, and
  ``field_hints(addresses=…)`` names the known test and production addresses the page offers to choose from (free
  entry stays possible: a proxy, a new platform, a local sandbox). :data:`HostName` checks a server name.
* Lists of choices: ``field_hints(choices={code: French label})`` on a ``list[str]`` field makes it a group of
  check boxes (e.g. the document types fed to the DMP) — nobody types codes or JSON.
* ``field_hints(advanced=True)``: shown folded under « Réglages avancés ».

A plugin declares, for instance::

    endpoint: ServiceUrl = Field(
        "",
        title="Adresse du service",
        description="…",
        json_schema_extra=field_hints(
            addresses=(
                KnownAddress("https://…", "Plateforme de test", test=True),
                KnownAddress("https://…", "Production", test=False),
            )
        ),
    )
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field
from pydantic.fields import FieldInfo

_ADDRESSES = "lgo_known_addresses"
_CHOICES = "lgo_choices"
_ADVANCED = "lgo_advanced"
#: A DNS name (labels of letters, digits and hyphens) — IP addresses are checked apart.
_HOST = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)


@dataclass(frozen=True)
class KnownAddress:
    """An address a service is known to answer at: ``test`` for the national test platforms, else production."""

    url: str
    label_fr: str
    test: bool


def field_hints(
    *,
    addresses: Sequence[KnownAddress] = (),
    choices: Mapping[str, str] | None = None,
    advanced: bool = False,
) -> dict[str, Any]:
    """The ``json_schema_extra`` of a settings field: known addresses, choices (value → French label) of a list,
    advanced setting."""
    hints: dict[str, Any] = {}
    if addresses:
        hints[_ADDRESSES] = [asdict(a) for a in addresses]
    if choices:
        hints[_CHOICES] = dict(choices)
    if advanced:
        hints[_ADVANCED] = True
    return hints


def extra_authorities_field(service_fr: str = "") -> Any:
    """The advanced setting every TLS client has: a PEM file of trust anchors added to the system's and to the
    chain of the certificate stored on the « Certificat » page (``service_fr``: « du service ApCV »...)."""
    return Field(
        "",
        title=f"Autorités de confiance supplémentaires{' ' + service_fr if service_fr else ''} (fichier PEM)",
        description="Réglage avancé, rarement utile : vide, les autorités du système et celles du certificat "
        "déposé sur la page « Certificat » suffisent.",
        json_schema_extra=field_hints(advanced=True),
    )


def timeout_field(
    default: float, description_fr: str, *, title_fr: str = "Délai maximal d'un appel (secondes)", most: float = 120
) -> Any:
    """The time-out every client of a remote service has, in seconds (more than 0, at most ``most``);
    ``description_fr`` says what happens when it runs out."""
    return Field(default, gt=0, le=most, title=title_fr, description=description_fr)


def _hints(field: FieldInfo) -> dict[str, Any]:
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


def known_addresses_of(field: FieldInfo) -> list[KnownAddress]:
    return [KnownAddress(**item) for item in _hints(field).get(_ADDRESSES, [])]


def choices_of(field: FieldInfo) -> dict[str, str]:
    return dict(_hints(field).get(_CHOICES, {}))


def is_advanced(field: FieldInfo) -> bool:
    return bool(_hints(field).get(_ADVANCED))


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: traffic that never leaves this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(value: str) -> str:
    """A server name or IP address (``smtp.exemple.fr``, ``10.0.0.5``); empty is allowed (not configured)."""
    host = value.strip()
    if not host:
        return ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.match(host):
            raise ValueError(
                f"« {host[:60]} » n'est pas un nom de serveur valide (lettres, chiffres, tirets et points, sans "
                "espace ni « https:// »)."
            ) from None
    return host


def check_service_url(value: str) -> str:
    """An ``https://`` address with a host (``http://`` only for a service on this computer); empty is allowed
    (the service is not configured)."""
    url = value.strip()
    if not url:
        return ""
    if any(c.isspace() for c in url):
        raise ValueError(f"« {url[:60]} » n'est pas une adresse : elle ne doit pas contenir d'espace.")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise ValueError(f"« {url[:60]} » n'est pas une adresse : elle doit commencer par https://.")
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 — reading it checks the port
    except ValueError:
        raise ValueError(f"« {url[:60]} » : le numéro de port n'est pas valide.") from None
    if not host:
        raise ValueError(f"« {url[:60]} » : il manque le nom du serveur après https://.")
    check_host(host)
    if parts.username or parts.password:
        raise ValueError("L'adresse ne doit pas contenir d'identifiant ni de mot de passe.")
    if parts.scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"« {url[:60]} » : les services nationaux ne s'appellent qu'en https:// (http:// seulement pour un "
            "service sur ce poste)."
        )
    return url


#: An address of a national service in a plugin's settings (empty: not configured).
ServiceUrl = Annotated[str, AfterValidator(check_service_url)]
#: A server name (SMTP, IMAP...) in a plugin's settings (empty: not configured).
HostName = Annotated[str, AfterValidator(check_host)]
