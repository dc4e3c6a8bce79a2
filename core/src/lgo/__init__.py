"""LGO kernel: the small core of an open French pharmacy management system.

Public API for plugins: this module, :mod:`lgo.hookspecs`, :mod:`lgo.actions`, :mod:`lgo.events`,
:mod:`lgo.plugins.manifest`, :mod:`lgo.identity`, :mod:`lgo.documents` and
:mod:`lgo.testing`. Everything else may change without notice.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pluggy

#: Version of the plugin API. Adding a hook or a hook argument bumps the minor; removing or renaming
#: one, or changing the meaning of an event, bumps the major. Plugins declare a range (e.g. ">=1.0,<2").
PLUGIN_API = "2.9"

#: pluggy project name: hook specifications and implementations are marked with it.
PROJECT = "lgo"

hookimpl = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)

try:
    __version__ = version("lgo-core")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["PLUGIN_API", "PROJECT", "__version__", "hookimpl", "hookspec"]
