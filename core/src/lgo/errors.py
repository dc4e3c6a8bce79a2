"""Errors the kernel raises. Each carries a French message for the user (``str(err)``) and, where useful,
a precise English detail for the log (``err.detail``)."""

from __future__ import annotations


class LgoError(Exception):
    """Base of the kernel's errors: ``str()`` is the French message shown to the user."""

    def __init__(self, message_fr: str, *, detail: str | None = None) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr
        self.detail = detail or message_fr


class ValidationError(LgoError):
    """Input refused (a wrong check digit, an unknown code...)."""


class NotFound(LgoError):
    pass


class InsufficientStock(LgoError):
    pass


class ImmutableRecordError(LgoError):
    """A validated ordonnancier entry, invoice or audit entry was about to be changed."""


class ProviderError(LgoError):
    pass


class PluginError(LgoError):
    pass


class PermissionDenied(LgoError):
    pass
