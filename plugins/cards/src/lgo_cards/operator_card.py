"""The operator's CPS at the counter: unlocked once with the PIN, it signs for that operator (the INSi assertion in
INSI-MANU mode) until they lock it, stay idle longer than the configured delay, or take the card out (the next
signature then fails with a French message).

The unlocked card lives in this process's memory only, keyed by pharmacy and operator; the kernel hands it to the
other plugins through ``lgo_operator_signer`` (``Kernel.operator_signer``), so ``ins`` never imports this plugin.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lgo.api import Operator, get_scoped

from lgo_cards import signing
from lgo_cards.cps import Professional
from lgo_cards.errors import CardError
from lgo_cards.settings import CardsSettings

if TYPE_CHECKING:
    from lgo.api import Kernel


@dataclass
class _Unlocked:
    signer: signing.CardSigner
    idle_seconds: float
    expires: float


_UNLOCKED: dict[tuple[int, int], _Unlocked] = {}
_LOCK = threading.Lock()


def _settings(kernel: Kernel, pharmacy_id: int) -> CardsSettings:
    settings = kernel.plugin_settings(pharmacy_id, "cards")
    assert isinstance(settings, CardsSettings)
    return settings


def unlock(kernel: Kernel, pharmacy_id: int, operator_id: int, pin: str) -> Professional:
    """Check the PIN on the card in the reader and keep it ready for this operator; the card must be theirs."""
    settings = _settings(kernel, pharmacy_id)
    if not settings.pkcs11_module:
        raise CardError(
            "La carte CPS n'est pas configurée : indiquez le module PKCS#11 dans les réglages du module « Cartes »."
        )
    key = signing.card_key(settings.pkcs11_module, pin, token_label=settings.cps_token_label or None)
    holder = Professional.from_certificate(key.card_certificate.certificate)
    with kernel.transaction() as session:
        operator = get_scoped(session, Operator, operator_id, pharmacy_id, "opérateur")
        name, rpps = f"{operator.first_name} {operator.last_name}", operator.rpps
    if not rpps or holder.rpps != rpps:
        raise CardError(
            f"Cette carte CPS est celle de {holder.given_name} {holder.surname} : elle ne peut pas signer pour {name}.",
            detail=f"card {holder.national_id}, operator RPPS {rpps}",
        )
    idle = settings.cps_idle_minutes * 60.0
    with _LOCK:
        _UNLOCKED[(pharmacy_id, operator_id)] = _Unlocked(signing.CardSigner(key), idle, time.monotonic() + idle)
    kernel.audit(
        pharmacy_id,
        "cards.cps_unlocked",
        f"Carte CPS de {name} déverrouillée au poste.",
        actor="cards",
        operator_id=operator_id,
    )
    return holder


def lock(kernel: Kernel, pharmacy_id: int, operator_id: int) -> None:
    """The operator leaves: the card no longer signs for them."""
    with _LOCK:
        removed = _UNLOCKED.pop((pharmacy_id, operator_id), None)
    if removed is not None:
        kernel.audit(pharmacy_id, "cards.cps_locked", "Carte CPS verrouillée.", actor="cards", operator_id=operator_id)


def signer_for(kernel: Kernel, pharmacy_id: int, operator_id: int) -> signing.CardSigner | None:
    """``lgo_operator_signer``: the operator's unlocked card, if it was used within the idle delay (each use restarts
    the delay)."""
    now = time.monotonic()
    with _LOCK:
        entry = _UNLOCKED.get((pharmacy_id, operator_id))
        if entry is None:
            return None
        if now > entry.expires:
            del _UNLOCKED[(pharmacy_id, operator_id)]
            return None
        entry.expires = now + entry.idle_seconds
        return entry.signer
