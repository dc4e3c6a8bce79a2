"""Signatures made by the CPS: a ``cryptography`` RSA private key whose operations happen on the card.

signxml (the INSi assertion of ``ins``, the VIHF of ``dmp``) accepts a ``cryptography`` private key object; a card
key cannot be exported, so :class:`CardPrivateKey` implements ``RSAPrivateKey`` and sends each signature to the
card (PKCS#1 v1.5: the DigestInfo is built here and signed with ``CKM_RSA_PKCS``, which every CPS middleware and
SoftHSM offer, whereas ``CKM_SHA256_RSA_PKCS`` is not on every card). Export operations refuse in French.

:class:`CardSigner` is the kernel's one signer shape (:class:`lgo.api.Signer`) with the CPS: the INSi assertion, the
VIHF and the XAdES submission-set signature are signed with it by :mod:`lgo.xml_signature`, like with the pharmacy's
certificate; neither ``ins`` nor ``dmp`` depends on this plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from lgo_cards import cps
from lgo_cards.errors import CardError

#: DER prefix of the PKCS#1 v1.5 DigestInfo for each hash (RFC 8017, section 9.2, note 1).
DIGEST_INFO = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


@dataclass
class CardPrivateKey(rsa.RSAPrivateKey):
    """The private key of one card certificate; each ``sign`` opens a session with the PIN and signs on the card."""

    module_path: str
    token_label: str | None
    pin: str = field(repr=False)
    card_certificate: cps.CardCertificate

    def sign(self, data: bytes, padding: padding.AsymmetricPadding, algorithm: Any) -> bytes:
        # ``algorithm``: a hash, ``Prehashed`` or (cryptography >= 46) ``NoDigestInfo``: data already encoded.
        from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

        if not isinstance(padding, PKCS1v15):
            raise CardError("La CPS ne signe qu'en RSA PKCS#1 v1.5.", detail=repr(padding))
        prefix: bytes | None = None
        if type(algorithm).__name__ == "NoDigestInfo":
            name, digest, prefix = "", data, b""
        elif isinstance(algorithm, Prehashed):
            name, digest = algorithm._algorithm.name, data
        else:
            name = algorithm.name
            hasher = hashes.Hash(algorithm)
            hasher.update(data)
            digest = hasher.finalize()
        if prefix is None and name not in DIGEST_INFO:
            raise CardError("Algorithme de condensat non pris en charge par la CPS.", detail=name)
        from pkcs11 import Mechanism, ObjectClass

        with cps.logged_in(self.module_path, self.token_label, self.pin) as session:
            try:
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=self.card_certificate.key_id)
                encoded = (DIGEST_INFO[name] if prefix is None else prefix) + digest
                return bytes(key.sign(encoded, mechanism=Mechanism.RSA_PKCS))
            except Exception as exc:
                raise cps.translate(exc) from exc

    def public_key(self) -> rsa.RSAPublicKey:
        key = self.card_certificate.certificate.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        return key

    @property
    def key_size(self) -> int:
        return self.public_key().key_size

    def decrypt(self, ciphertext: bytes, padding: padding.AsymmetricPadding) -> bytes:
        raise CardError("Le déchiffrement par la CPS n'est pas utilisé par le LGO.")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise CardError("La clé privée de la CPS ne quitte jamais la carte.")

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> bytes:
        raise CardError("La clé privée de la CPS ne quitte jamais la carte.")

    def __copy__(self) -> CardPrivateKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> CardPrivateKey:
        return self


def card_key(module_path: str, pin: str, *, token_label: str | None = None, usage: str = "signature") -> CardPrivateKey:
    """The signature (or ``usage="authentication"``) key of the CPS in the reader; the PIN is checked now."""
    card = cps.verify_pin(module_path, token_label, pin)
    chosen = card.signature if usage == "signature" else card.authentication
    return CardPrivateKey(module_path, card.label, pin, chosen)


@dataclass(frozen=True)
class CardSigner:
    """The CPS as a :class:`lgo.api.Signer`: its certificate and a key whose operations happen on the card."""

    key: CardPrivateKey

    @property
    def certificate_pem(self) -> bytes:
        return self.key.card_certificate.pem

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return self.key
