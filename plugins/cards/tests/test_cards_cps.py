"""The CPS through a real PKCS#11 module (SoftHSM2): listing, certificates, PIN, French errors, card signatures."""

from __future__ import annotations

import pytest
from cards_helpers import cps_world
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PSS, PKCS1v15
from lgo_cards import cps, signing
from lgo_cards.errors import CardAbsent, CardError, CardModuleUnavailable, PinBlocked, UnknownCard, WrongPin
from lgo_sandbox.cps import PIN, RPPS


def test_the_card_is_listed_with_both_certificates_and_the_holder() -> None:
    world = cps_world()
    (card,) = cps.list_cards(world.card.module_path)  # the token without certificates is not offered
    assert card.label == world.card.label and card.serial
    assert card.professional.national_id == f"8{RPPS}" and card.professional.rpps == RPPS
    assert card.professional.profession == "Pharmacien"
    assert (card.professional.given_name, card.professional.surname) == ("CLAIRE", "DURAND-TEST")
    assert "Authentification" in card.authentication.label and "Signature" in card.signature.label
    assert card.authentication.certificate != card.signature.certificate
    assert card.authentication.key_id != card.signature.key_id


def test_the_card_signs_and_the_key_never_leaves_it() -> None:
    world = cps_world()
    key = signing.card_key(world.card.module_path, PIN, token_label=world.card.label)
    signature = key.sign(b"ordonnance", PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, b"ordonnance", PKCS1v15(), hashes.SHA256())
    assert key.key_size == 2048
    with pytest.raises(CardError, match="ne quitte jamais la carte"):
        key.private_numbers()
    with pytest.raises(CardError, match="PKCS#1 v1.5"):
        key.sign(b"x", PSS(mgf=None, salt_length=0), hashes.SHA256())  # type: ignore[arg-type]


def test_a_wrong_pin_is_refused_in_french_and_the_right_one_still_works() -> None:
    world = cps_world()
    with pytest.raises(WrongPin, match="Code porteur de la CPS incorrect"):
        signing.card_key(world.card.module_path, "0000", token_label=world.card.label)
    assert signing.card_key(world.card.module_path, PIN, token_label=world.card.label).key_size == 2048


def test_missing_module_absent_card_and_unknown_card_give_french_messages() -> None:
    world = cps_world()
    with pytest.raises(CardModuleUnavailable, match="Aucun module PKCS#11"):
        cps.read_card("")
    with pytest.raises(CardModuleUnavailable, match="introuvable"):
        cps.read_card("/nulle/part/libcps.so")
    with pytest.raises(CardAbsent, match="n'est pas dans le lecteur"):
        cps.read_card(world.card.module_path, "CPS RETIREE")
    with pytest.raises(UnknownCard, match="certificats d'une CPS"):
        cps.read_card(world.card.module_path, world.other_label)


def test_pkcs11_failures_map_to_french_errors() -> None:
    # Pure mapping: SoftHSM never blocks a PIN, a real CPS does after three wrong codes.
    from pkcs11 import TokenFlag
    from pkcs11 import exceptions as e

    blocked = cps.translate(e.PinLocked())
    assert isinstance(blocked, PinBlocked) and "bloqué" in blocked.message_fr
    assert isinstance(cps.translate(e.PinIncorrect(), pin_flags=TokenFlag.USER_PIN_LOCKED), PinBlocked)
    last = cps.translate(e.PinIncorrect(), pin_flags=TokenFlag.USER_PIN_FINAL_TRY)
    assert isinstance(last, WrongPin) and last.tries_left == 1 and "un seul essai" in last.message_fr
    for removed in (e.TokenNotPresent(), e.DeviceRemoved(), e.SessionHandleInvalid()):
        assert isinstance(cps.translate(removed), CardAbsent)
    other = cps.translate(e.GeneralError())
    assert type(other) is CardError and "réinsérez" in other.message_fr
