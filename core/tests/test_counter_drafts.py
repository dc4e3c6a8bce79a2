"""The counter's saved drafts: stale versions refused, validation exactly once (double submit, second tab);
a vaccination the pharmacist prescribes needs no medical prescription; the patient search the counter uses."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lgo import hookimpl
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain import drafts
from lgo.domain.billing import ActDefinition, Invoice
from lgo.domain.patient_search import search
from lgo.domain.patients import Patient
from lgo.errors import ValidationError
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from sqlalchemy import func, select


class Vaccinating:
    MANIFEST = Manifest(name="vacc", plugin_api=">=2.1,<3", label_fr="Vaccins")

    @hookimpl
    def lgo_register_acts(self) -> list[ActDefinition]:
        return [ActDefinition("RVX", "Vaccination", 750, 70, pharmacist_prescribes=True), ActDefinition("INX", "I", 1)]


def _invoices(kernel: Kernel) -> int:
    with kernel.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)


def test_a_draft_is_changed_on_its_version_and_validated_once(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    pharmacy, operator = lgo_seeded.pharmacy_id, lgo_seeded.operators["adjoint"]
    with lgo_kernel.transaction() as session:
        draft = drafts.open_draft(session, pharmacy, operator)
        draft_id = draft.id
        assert drafts.save(session, draft, 1, state={"lines": [1]}) == 2
    with lgo_kernel.transaction() as session, pytest.raises(drafts.StaleDraft, match="autre onglet"):
        drafts.save(session, drafts.get_draft(session, pharmacy, draft_id), 1, state={"lines": []})

    counter = Counter(lgo_kernel, pharmacy, operator)
    billing = counter.start_billing()
    billing.draft_id = draft_id
    counter.add_product(billing, lgo_seeded.products["serum"], 1)
    before = _invoices(lgo_kernel)
    result = counter.end_billing(billing)
    with pytest.raises(drafts.AlreadyValidated, match="déjà validée") as refused:  # the double submit
        counter.end_billing(billing)
    assert refused.value.invoice_id == result.invoice_id
    assert _invoices(lgo_kernel) == before + 1
    with lgo_kernel.transaction() as session, pytest.raises(drafts.AlreadyValidated):
        drafts.save(session, drafts.get_draft(session, pharmacy, draft_id), 3, state={})


def test_a_vaccine_the_pharmacist_prescribes_needs_no_medical_prescription(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(Vaccinating())
    kernel.enable(lgo_seeded.pharmacy_id, "vacc")
    counter = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["preparatrice"])
    billing = counter.start_billing(patient_id=lgo_seeded.patients["camille"])
    counter.add_product(billing, lgo_seeded.products["grippe"], 1)
    counter.add_act(billing, "INX")  # an act the pharmacist does not prescribe
    with pytest.raises(ValidationError, match="sans ordonnance"):
        counter.end_billing(billing)
    counter.add_act(billing, "RVX")
    result = counter.end_billing(billing)
    assert result.dispensation_numbers == ()
    billing = counter.start_billing(patient_id=lgo_seeded.patients["camille"])
    counter.add_product(billing, lgo_seeded.products["amoxicilline"], 1)  # listed, not a vaccine
    counter.add_act(billing, "RVX")
    with pytest.raises(ValidationError, match="AMOXICILLINE"):
        counter.end_billing(billing)


def test_the_counter_search_finds_names_dates_and_nir(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:
        camille = session.get(Patient, lgo_seeded.patients["camille"])
        assert camille is not None
        first = camille.first_names.split(" ")[0]
        by_name = search(session, pharmacy, f"{camille.birth_name[:3].lower()} {first[:2].lower()}")
        assert camille.id in [p.id for p in by_name]
        year, month, day = camille.birth_date_text.split("-")
        assert camille.id in [p.id for p in search(session, pharmacy, f"{day}/{month}/{year}")]
        assert search(session, pharmacy, "ZZZ-INCONNU") == []
        with pytest.raises(ValidationError, match="Saisissez un nom"):
            search(session, pharmacy, "   ")
