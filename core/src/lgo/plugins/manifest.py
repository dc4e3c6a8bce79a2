"""The manifest every plugin declares as a module-level constant ``MANIFEST``.

It is read before the plugin starts (and for plugins that are installed but disabled), so the plugin module
must stay cheap to import: heavy dependencies are imported inside the functions that need them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from lgo.enums import LabelledEnum

if TYPE_CHECKING:
    from pydantic import BaseModel

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")

#: ``Manifest.publisher`` of the LGO libre project's own modules: the admin page's « vague 1 » action switches on
#: only these (decision 0905), never an example or a vendor's module, which the pharmacy enables one by one.
PROJECT_PUBLISHER = "LGO libre"


class PluginState(LabelledEnum):
    ACTIVE = "active", "actif"
    DISABLED = "disabled", "désactivé"
    INCOMPATIBLE = "incompatible", "incompatible"
    FAILED = "failed", "en échec"
    MISSING_DEPENDENCY = "missing-dependency", "dépendance manquante"


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class Manifest:
    """What a plugin is, what it needs and what it provides.

    ``plugin_api`` is a PEP 440 range checked against :data:`lgo.PLUGIN_API` (e.g. ``">=1.0,<2"``).
    ``requires`` must be active for this plugin to be active; ``optional`` are started first when present.
    ``capabilities`` name what the plugin brings (used by the tox matrix and the admin page);
    ``provider_capabilities`` name the capabilities whose provider drivers (entry-point group
    ``lgo.providers.<capability>``) this plugin owns. ``settings`` is a pydantic model whose defaults must be valid.
    ``publisher`` names who publishes the plugin (:data:`PROJECT_PUBLISHER` for the project's own modules).
    """

    name: str
    plugin_api: str
    wave: int = 1
    distribution: str | None = None
    label_fr: str = ""
    description_fr: str = ""
    requires: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    provider_capabilities: tuple[str, ...] = ()
    settings: type[BaseModel] | None = None
    publisher: str = ""
    #: Filled from the distribution's metadata when ``distribution`` is given.
    version: str = field(default="")

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ManifestError(f"invalid plugin name {self.name!r} (lower case, digits, underscore)")
        try:
            SpecifierSet(self.plugin_api)
        except InvalidSpecifier as exc:
            raise ManifestError(f"invalid plugin_api range {self.plugin_api!r}") from exc
        if self.wave not in (1, 2):
            raise ManifestError(f"invalid Ségur wave {self.wave!r} (1 or 2)")
        if self.name in self.requires or self.name in self.optional:
            raise ManifestError(f"plugin {self.name!r} cannot depend on itself")
        if not self.version:
            object.__setattr__(self, "version", _distribution_version(self.distribution))

    def accepts_api(self, api: str) -> bool:
        return Version(api) in SpecifierSet(self.plugin_api)

    @property
    def dependencies(self) -> tuple[str, ...]:
        return self.requires + tuple(o for o in self.optional if o not in self.requires)

    @property
    def label(self) -> str:
        return self.label_fr or self.name

    @property
    def from_project(self) -> bool:
        """One of the LGO libre project's own modules (not an example, not a vendor's)."""
        return self.publisher == PROJECT_PUBLISHER


def _distribution_version(distribution: str | None) -> str:
    if not distribution:
        return "0+inconnue"
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "0+inconnue"
