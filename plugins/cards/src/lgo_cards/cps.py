"""The professional's CPS through PKCS#11: the card, its two certificates and signatures with the card's key.

A CPS carries an authentication certificate and a signature certificate (IGC-Santé), each with its private key
under the same ``CKA_ID``. Their subject holds the national id (``CN`` = ``8`` + RPPS for a pharmacist), the
profession (``title``), given name and surname. Certificates are public objects: reading them needs no PIN;
signing does. Every PKCS#11 failure becomes a :class:`~lgo_cards.errors.CardError` with a French message.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from lgo.api import identifiers

from lgo_cards.errors import CardAbsent, CardError, CardModuleUnavailable, PinBlocked, UnknownCard, WrongPin

#: How the CPS middleware labels the certificates (Cryptolib CPS); other tokens fall back to the key usage.
AUTH_LABEL = "Authentification"
SIGN_LABEL = "Signature"

_LIBS: dict[str, Any] = {}
_LIBS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Professional:
    """Who the card belongs to, as its certificate says."""

    national_id: str  # idNat: "8" + RPPS for RPPS professions, "0" + ADELI...
    given_name: str
    surname: str
    profession: str

    @property
    def rpps(self) -> str | None:
        return identifiers.rpps_from_idnat(self.national_id)

    @classmethod
    def from_certificate(cls, certificate: x509.Certificate) -> Professional:
        def first(oid: x509.ObjectIdentifier) -> str:
            values = certificate.subject.get_attributes_for_oid(oid)
            return str(values[0].value) if values else ""

        national_id = first(NameOID.COMMON_NAME)
        if not national_id:
            raise UnknownCard(
                "Cette carte n'est pas une carte de professionnel de santé (CPS) : son certificat ne "
                "porte pas d'identifiant national.",
                detail=certificate.subject.rfc4514_string(),
            )
        return cls(national_id, first(NameOID.GIVEN_NAME), first(NameOID.SURNAME), first(NameOID.TITLE))


@dataclass(frozen=True)
class CardCertificate:
    label: str
    key_id: bytes
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class CpsCard:
    """A CPS found in a reader: its token label and serial, the holder and both certificates."""

    label: str
    serial: str
    professional: Professional
    authentication: CardCertificate
    signature: CardCertificate


def load_module(module_path: str) -> Any:
    """The PKCS#11 library (loaded once per process: a module keeps its state for the whole process)."""
    if not module_path:
        raise CardModuleUnavailable(
            "Aucun module PKCS#11 n'est configuré pour lire la CPS : renseignez le chemin "
            "du module (cryptolib CPS) dans les réglages du module Cartes."
        )
    if not os.path.exists(module_path):
        raise CardModuleUnavailable(
            f"Le module de lecture de la CPS est introuvable ({module_path}) : installez "
            "la cryptolib CPS ou corrigez son chemin dans les réglages.",
            detail=module_path,
        )
    with _LIBS_LOCK:
        if module_path not in _LIBS:
            try:
                import pkcs11
            except ImportError as exc:  # pragma: no cover - dependency of the distribution
                raise CardModuleUnavailable(
                    "La bibliothèque python-pkcs11 n'est pas installée.", detail=repr(exc)
                ) from exc
            try:
                _LIBS[module_path] = pkcs11.lib(module_path)
            except Exception as exc:  # the wrapper raises several kinds for a bad library
                raise CardModuleUnavailable(
                    f"Le module de lecture de la CPS ({module_path}) ne peut pas être chargé.", detail=repr(exc)
                ) from exc
        return _LIBS[module_path]


def translate(exc: Exception, *, pin_flags: Any = None) -> CardError:
    """A PKCS#11 exception as a French card error (``pin_flags``: the token flags read after a wrong PIN)."""
    from pkcs11 import TokenFlag
    from pkcs11 import exceptions as e

    if isinstance(exc, CardError):
        return exc
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, e.PinLocked) or (pin_flags is not None and pin_flags & TokenFlag.USER_PIN_LOCKED):
        return PinBlocked(
            "Le code porteur de la CPS est bloqué après trop d'essais : débloquez la carte avec son "
            "code de déblocage (PUK) ou demandez une nouvelle carte.",
            detail=detail,
        )
    if isinstance(exc, e.PinIncorrect | e.PinInvalid | e.PinLenRange):
        tries: int | None = None
        message = "Code porteur de la CPS incorrect."
        if pin_flags is not None and pin_flags & TokenFlag.USER_PIN_FINAL_TRY:
            tries = 1
            message += " Attention : il reste un seul essai avant le blocage de la carte."
        elif pin_flags is not None and pin_flags & TokenFlag.USER_PIN_COUNT_LOW:
            message += " Attention : il reste peu d'essais avant le blocage de la carte."
        return WrongPin(message, tries_left=tries, detail=detail)
    if isinstance(exc, e.PinExpired):
        return WrongPin("Le code porteur de la CPS doit être changé avant usage.", detail=detail)
    if isinstance(
        exc,
        e.TokenNotPresent
        | e.DeviceRemoved
        | e.SessionClosed
        | e.SessionHandleInvalid
        | e.NoSuchToken
        | e.SlotIDInvalid,
    ):
        return CardAbsent(
            "La CPS a été retirée ou n'est pas dans le lecteur : insérez-la et recommencez.", detail=detail
        )
    if isinstance(exc, e.TokenNotRecognised):
        return UnknownCard("La carte insérée n'est pas reconnue comme une CPS.", detail=detail)
    return CardError(
        "La CPS n'a pas pu être lue (erreur du lecteur ou de la carte) : retirez-la, réinsérez-la et recommencez.",
        detail=detail,
    )


def _tokens(lib: Any) -> list[Any]:
    from pkcs11 import TokenFlag

    try:
        tokens = [slot.get_token() for slot in lib.get_slots(token_present=True)]
    except Exception as exc:
        raise translate(exc) from exc
    # A blank token (SoftHSM's spare slot, a card never personalised) is not a card to offer.
    return [t for t in tokens if t.flags & TokenFlag.TOKEN_INITIALIZED]


def _token(lib: Any, label: str | None) -> Any:
    tokens = [t for t in _tokens(lib) if label in (None, "", t.label)]
    if not tokens:
        raise CardAbsent(
            "Aucune CPS dans le lecteur : insérez la carte du professionnel et recommencez."
            if not label
            else f"La CPS « {label} » n'est pas dans le lecteur : insérez-la et recommencez.",
            detail=f"label={label!r}",
        )
    return tokens[0]


def _classify(certificates: list[CardCertificate]) -> tuple[CardCertificate, CardCertificate]:
    auth = next((c for c in certificates if AUTH_LABEL.lower() in c.label.lower()), None)
    sign = next((c for c in certificates if SIGN_LABEL.lower() in c.label.lower()), None)
    if auth is None or sign is None:
        # Without the middleware's labels: the signature certificate is the non-repudiation one.
        for card_cert in certificates:
            try:
                usage = card_cert.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
            except x509.ExtensionNotFound:
                continue
            if usage.content_commitment and not usage.digital_signature and sign is None:
                sign = card_cert
            elif usage.digital_signature and auth is None:
                auth = card_cert
    if auth is None or sign is None:
        raise UnknownCard(
            "Cette carte ne porte pas les certificats d'une CPS (authentification et signature).",
            detail=", ".join(c.label for c in certificates),
        )
    return auth, sign


def _read(token: Any, session: Any) -> CpsCard:
    from pkcs11 import Attribute, ObjectClass

    certificates = []
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        certificate = x509.load_der_x509_certificate(bytes(obj[Attribute.VALUE]))
        certificates.append(CardCertificate(str(obj[Attribute.LABEL]), bytes(obj[Attribute.ID]), certificate))
    auth, sign = _classify(certificates)
    return CpsCard(
        token.label,
        str(token.serial.decode() if isinstance(token.serial, bytes) else token.serial),
        Professional.from_certificate(sign.certificate),
        auth,
        sign,
    )


def list_cards(module_path: str) -> list[CpsCard]:
    """Every CPS present, read without PIN."""
    lib = load_module(module_path)
    cards = []
    for token in _tokens(lib):
        try:
            with token.open() as session:
                cards.append(_read(token, session))
        except UnknownCard:
            continue
        except Exception as exc:
            raise translate(exc) from exc
    return cards


def read_card(module_path: str, label: str | None = None) -> CpsCard:
    """The CPS in the reader (the one labelled ``label`` when several tokens are present)."""
    lib = load_module(module_path)
    token = _token(lib, label)
    try:
        with token.open() as session:
            return _read(token, session)
    except Exception as exc:
        raise translate(exc) from exc


@contextmanager
def logged_in(module_path: str, label: str | None, pin: str) -> Iterator[Any]:
    """A session where the holder presented ``pin``; wrong PIN / blocked card / removed card become French errors."""
    lib = load_module(module_path)
    token = _token(lib, label)
    try:
        session = token.open(user_pin=pin)
    except Exception as exc:
        flags = None
        with contextlib.suppress(Exception):  # the card may be gone: the first error is the one to report
            flags = _token(lib, token.label).flags
        raise translate(exc, pin_flags=flags) from exc
    try:
        yield session
    finally:
        with contextlib.suppress(Exception):  # a removed card cannot close its session; nothing to do
            session.close()


def verify_pin(module_path: str, label: str | None, pin: str) -> CpsCard:
    """Check the PIN once (at sign-in to the counter) and return the card read in the same session."""
    with logged_in(module_path, label, pin) as session:
        try:
            return _read(_token(load_module(module_path), label), session)
        except Exception as exc:
            raise translate(exc) from exc
