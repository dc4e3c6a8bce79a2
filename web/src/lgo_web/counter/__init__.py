"""The counter face of ``lgo web`` (``/comptoir``): patient, billing and the plugins' windows, keyboard first.

The web application names no plugin: windows, keys, panels and the services' states come from the kernel's
registry and hooks (:mod:`lgo.hookspecs`, section *counter*)."""
