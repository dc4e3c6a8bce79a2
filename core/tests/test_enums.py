"""Enumerations whose members carry their French label (:class:`lgo.api.LabelledEnum`)."""

from __future__ import annotations

import pytest
from lgo.api import LabelledEnum


class Status(LabelledEnum):
    OPEN = "open", "en cours"
    CANCELLED = "cancelled", "annulé"


def test_a_member_is_its_value_and_carries_its_label() -> None:
    assert Status("open") is Status.OPEN and Status.OPEN == "open" and f"{Status.OPEN}" == "open"
    assert [(s.value, s.label_fr) for s in Status] == [("open", "en cours"), ("cancelled", "annulé")]


def test_a_member_without_its_label_is_refused() -> None:
    with pytest.raises(TypeError):

        class Unlabelled(LabelledEnum):
            OPEN = "open"
