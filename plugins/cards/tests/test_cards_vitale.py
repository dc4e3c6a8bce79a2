"""The carte Vitale through a real pcscd with the vsmartcard virtual reader and a virtual card; TLV decoding."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from cards_helpers import virtual_reader
from hypothesis import given
from hypothesis import strategies as st
from lgo.demo_data import Seeded
from lgo.domain.patients import create_patient
from lgo.kernel import Kernel
from lgo_cards import counter, vitale
from lgo_cards.errors import CardAbsent, UnknownCard
from lgo_sandbox import vitale as virtual
from smartcard.pcsc.PCSCCardConnection import PCSCCardConnection

# One pcscd per machine (its socket path is fixed): these tests share one test process (decision 0014).
pytestmark = pytest.mark.xdist_group("pcscd")

FAMILY = virtual.VitaleData(
    "236066322083656",
    (
        virtual.Beneficiary("TCHITCHI", "CATARINA", "19360621", 1, nir="236066322083656"),
        virtual.Beneficiary("TCHITCHI", "LOUISE", "20120531", 1, used_name="MARTIN"),
    ),
    serial="1234567890",
)


@pytest.fixture(scope="module")
def reader() -> Iterator[Any]:
    started = virtual_reader()
    yield started
    started.stop()


def test_the_beneficiaries_are_read_from_the_card(reader: Any) -> None:
    reader.insert(virtual.VirtualCard(FAMILY))
    card = vitale.read_vitale("Virtual PCD")
    assert card.serial == "1234567890" and card.holder_nir == "236066322083656"
    mother, child = card.beneficiaries
    assert (mother.birth_name, mother.first_name, mother.birth_date, mother.rank, mother.nir) == (
        "TCHITCHI",
        "CATARINA",
        "1936-06-21",
        1,
        "236066322083656",
    )
    assert (child.first_name, child.birth_date, child.used_name, child.nir) == ("LOUISE", "2012-05-31", "MARTIN", "")


def test_no_card_card_removed_mid_read_and_unknown_card_give_french_messages(reader: Any) -> None:
    reader.remove()
    with pytest.raises(CardAbsent, match="Aucune carte Vitale"):
        vitale.read_vitale("Virtual PCD")
    with pytest.raises(CardAbsent, match="Aucun lecteur"):
        vitale.read_vitale("Lecteur inexistant")
    reader.insert(virtual.VirtualCard(FAMILY, remove_after_reads=0))
    with pytest.raises(CardAbsent, match="retirée pendant la lecture"):
        vitale.read_vitale("Virtual PCD")
    reader.insert(virtual.VirtualCard(None))
    with pytest.raises(UnknownCard, match="n'est pas une carte Vitale"):
        vitale.read_vitale("Virtual PCD")
    reader.insert(virtual.VirtualCard(FAMILY))
    assert len(vitale.read_vitale("Virtual PCD").beneficiaries) == 2  # the counter goes on


def test_every_reading_gives_its_pcsc_context_back(reader: Any) -> None:
    """Left to the garbage collector, a context is released whenever, maybe once pcscd is gone (pyscard then prints a
    traceback on the way out, as the demo once did)."""
    gc.collect()
    gc.disable()  # what the reading leaves behind stays in reach until the check
    try:
        reader.remove()
        with pytest.raises(CardAbsent):
            vitale.read_vitale("Virtual PCD")
        reader.insert(virtual.VirtualCard(FAMILY, remove_after_reads=0))
        with pytest.raises(CardAbsent):
            vitale.read_vitale("Virtual PCD")
        reader.insert(virtual.VirtualCard(FAMILY))
        vitale.read_vitale("Virtual PCD")
        held = [o for o in gc.get_objects() if isinstance(o, PCSCCardConnection) and o.hcontext is not None]
        assert held == []
    finally:
        gc.enable()


def test_beneficiaries_become_patient_choices_and_the_card_is_remembered(
    reader: Any,
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
) -> None:
    kernel = lgo_make_kernel()
    pharmacy = lgo_seeded.pharmacy_id
    with kernel.transaction() as session:
        known = create_patient(
            session, pharmacy, birth_name="Tchitchi", first_names="Catarina Bella", sex="F", birth_date="1936-06-21"
        ).id
    reader.insert(virtual.VirtualCard(FAMILY))
    card = vitale.read_vitale("Virtual PCD")
    mother, child = counter.candidates(kernel, pharmacy, card)
    assert mother.patient_ids == (known,) and child.patient_ids == ()
    counter.remember_card(kernel, pharmacy, known, card, mother.beneficiary)
    assert counter.candidates(kernel, pharmacy, card)[0].patient_ids == (known,)


@given(
    st.lists(
        st.tuples(
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ -'", min_size=1, max_size=60),
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZÉÈ-", min_size=1, max_size=60),
            st.dates(min_value=date(1900, 1, 1)).map(lambda d: d.strftime("%Y%m%d")),
            st.integers(1, 9),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_card_content_decodes_to_what_was_written(people: list[tuple[str, str, str, int]]) -> None:
    data = virtual.VitaleData(
        "180032B02040123"[:13] + "00",
        tuple(virtual.Beneficiary(name, first, born, rank) for name, first, born, rank in people),
    )
    card = vitale.decode(virtual.encode(data))
    assert [(b.birth_name, b.first_name, b.birth_date.replace("-", ""), b.rank) for b in card.beneficiaries] == [
        (name, first, born, rank) for name, first, born, rank in people
    ]


@given(st.binary(max_size=300))
def test_garbage_never_crashes_the_decoder(content: bytes) -> None:
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        vitale.decode(content)
