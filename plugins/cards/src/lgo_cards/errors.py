"""Card errors: a French message the pharmacist can act on, the technical cause in ``detail`` (the log)."""

from __future__ import annotations

from lgo.api import LgoError


class CardError(LgoError):
    """Any card or reader problem; the counter shows the message and goes on."""


class CardModuleUnavailable(CardError):
    """The PKCS#11 module (CPS middleware) or the PC/SC service is missing."""


class CardAbsent(CardError):
    """No card in the reader, or it was removed during the operation."""


class WrongPin(CardError):
    def __init__(self, message_fr: str, *, tries_left: int | None = None, detail: str | None = None) -> None:
        super().__init__(message_fr, detail=detail)
        self.tries_left = tries_left


class PinBlocked(CardError):
    """Too many wrong codes: only the card's unblocking code (PUK) helps now."""


class UnknownCard(CardError):
    """A card is there but is not the expected kind (not a CPS, not a carte Vitale)."""
