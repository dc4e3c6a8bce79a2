"""The plugin's errors: French message for the operator, precise detail for the log."""

from __future__ import annotations

from lgo.api import PermissionDenied, ProviderError


class SignInRefused(PermissionDenied):
    """PSC answered but the sign-in must not go through (token checks, operator mapping, binding)."""


class PscUnavailable(ProviderError):
    """PSC could not be reached or answered with an error."""


class CibaPending(ProviderError):
    """The decoupled sign-in is still waiting for the professional's approval (poll again later)."""
