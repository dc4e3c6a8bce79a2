"""The TROD windows' answers (``lgo_depistage.window``) on the real kernel: a child's positive angine gets the mg/kg
posology from the weight typed in the antibiotic window, and whatever is typed in the windows' fields gives a
French refusal (:class:`lgo.api.LgoError`), never another error, and leaves the test as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import lgo_depistage.plugin
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.demo_data import Seeded
from lgo.errors import LgoError
from lgo.events import ActionAnswered
from lgo.kernel import Kernel
from lgo_depistage import api, window
from lgo_depistage.model import DepistageTest

SCAN = "]d20103612345678904" + f"17{date.today().year % 100 + 2:02d}1231" + "10B987654"
CHILD = {"temperature": "38,6", "toux_absente": "oui", "adenopathies": "oui", "amygdales": "oui"}


@pytest.fixture
def kernel(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> Kernel:
    kernel = lgo_make_kernel(lgo_depistage.plugin)
    kernel.enable(lgo_seeded.pharmacy_id, "depistage")
    return kernel


def _event(seeded: Seeded, action: Any, choice: str, **values: str) -> ActionAnswered:
    return ActionAnswered(
        seeded.pharmacy_id,
        seeded.operators["titulaire"],
        action.kind,
        action.plugin,
        action.patient_id,
        choice,
        values,
        action.data,
    )


def _questionnaire(kernel: Kernel, seeded: Seeded, patient: str) -> Any:
    from lgo.events import CounterCommand

    (choose,) = window.command(
        kernel,
        CounterCommand(seeded.pharmacy_id, seeded.operators["titulaire"], window.COMMAND, seeded.patients[patient]),
    )
    (questionnaire,) = window.answered(kernel, _event(seeded, choose, "angine", consent="oui"))
    return questionnaire


def test_a_child_s_positive_angine_gets_the_posology_of_the_weight_typed(kernel: Kernel, lgo_seeded: Seeded) -> None:
    questionnaire = _questionnaire(kernel, lgo_seeded, "lea")  # 10 years old
    (device,) = window.answered(kernel, _event(lgo_seeded, questionnaire, "answer", **CHILD))
    assert device.data["eligible"], device.data["reasons"]
    (result,) = window.answered(kernel, _event(lgo_seeded, device, "device", scan=SCAN))
    (antibiotic,) = window.answered(kernel, _event(lgo_seeded, result, "result", streptocoque="positive"))
    assert antibiotic.data["child"]
    (option,) = antibiotic.data["options"]
    assert option["posology"] == "Le poids de l'enfant est nécessaire pour la posologie de amoxicilline (mg/kg)."
    with pytest.raises(LgoError, match="Le poids de l'enfant est nécessaire"):
        window.answered(kernel, _event(lgo_seeded, antibiotic, "1", boxes="1"))
    (validation,) = window.answered(kernel, _event(lgo_seeded, antibiotic, "1", boxes="1", weight="27"))
    # 50 mg/kg/day for 27 kg in two intakes: 675 mg morning and evening, 6 days.
    assert validation.data["treatment"].endswith(": 675 mg matin et soir pendant 6 jours")
    assert validation.data["act"] == "TRD — TROD angine et délivrance d'un antibiotique sans ordonnance"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    temperature=st.one_of(st.sampled_from(["38,5", "37", "39.6"]), st.text(max_size=12)),
    episode=st.one_of(st.just(""), st.text(max_size=12)),
    weight=st.one_of(st.just(""), st.text(max_size=8)),
    expiry=st.text(max_size=12),
    gtin=st.text(alphabet="0123456789 ()x", max_size=16),
)
def test_whatever_is_typed_in_the_windows_is_refused_in_french_or_recorded(
    kernel: Kernel, lgo_seeded: Seeded, temperature: str, episode: str, weight: str, expiry: str, gtin: str
) -> None:
    questionnaire = _questionnaire(kernel, lgo_seeded, "camille")
    test_id = int(questionnaire.data["test_id"])
    answers = {"temperature": temperature, "episode_precedent": episode, "poids": weight}
    try:
        window.answered(kernel, _event(lgo_seeded, questionnaire, "answer", **answers))
    except LgoError as exc:
        assert exc.message_fr and "Traceback" not in exc.message_fr
        with kernel.transaction() as session:
            row = session.get(DepistageTest, test_id)
            assert row is not None and row.eligible is None  # nothing half-written
        return
    device = window._device(test_id, api.Eligibility(True), questionnaire.patient_id)
    try:
        window.answered(kernel, _event(lgo_seeded, device, "device", gtin=gtin, lot="L1", expiry=expiry))
    except LgoError as exc:
        assert exc.message_fr
        with kernel.transaction() as session:
            row = session.get(DepistageTest, test_id)
            assert row is not None and row.device_lot is None and row.device_udi is None
    try:
        assert window._weight(weight) is None or 2 <= (window._weight(weight) or 0) <= 300
    except LgoError as exc:
        assert exc.message_fr.startswith("Poids invalide")
