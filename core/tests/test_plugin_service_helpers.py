"""What a plugin's own API asks of the kernel before acting: is the plugin on in this pharmacy, and is the operator
an active pharmacist with an RPPS number (one place, French messages, rows of other pharmacies never reachable)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lgo.api import acting_pharmacist
from lgo.demo_data import Seeded
from lgo.domain.pharmacy import Operator, create_pharmacy
from lgo.errors import NotFound, PluginError, ValidationError
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest


class Labelled:
    MANIFEST = Manifest(name="labelled", label_fr="Module étiqueté", plugin_api=">=2.0,<3")


def test_require_active_names_the_module_in_french(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> None:
    kernel = lgo_make_kernel(Labelled())
    pharmacy = lgo_seeded.pharmacy_id
    with pytest.raises(PluginError, match="Le module « Module étiqueté » n'est pas activé pour cette officine."):
        kernel.require_active(pharmacy, "labelled")
    kernel.enable(pharmacy, "labelled")
    kernel.require_active(pharmacy, "labelled")
    with pytest.raises(PluginError, match="« inconnu »"):
        kernel.require_active(pharmacy, "inconnu")


def test_acting_pharmacist_is_an_active_pharmacist_of_the_pharmacy_with_an_rpps(
    lgo_kernel: Kernel, lgo_seeded: Seeded
) -> None:
    pharmacy, why = lgo_seeded.pharmacy_id, "Cet acte est validé par un pharmacien."
    with lgo_kernel.transaction() as session:
        titulaire = acting_pharmacist(session, pharmacy, lgo_seeded.operators["titulaire"], why)
        assert titulaire.rpps
        with pytest.raises(ValidationError, match=why):
            acting_pharmacist(session, pharmacy, lgo_seeded.operators["preparatrice"], why)
        with pytest.raises(NotFound, match="Opérateur n° 99999 introuvable"):
            acting_pharmacist(session, pharmacy, 99999, why)
        other = create_pharmacy(session, name="Autre officine", finess="990000028")
        with pytest.raises(NotFound):
            acting_pharmacist(session, other.id, lgo_seeded.operators["titulaire"], why)
        adjoint = session.get(Operator, lgo_seeded.operators["adjoint"])
        assert adjoint is not None
        adjoint.active = False
        with pytest.raises(ValidationError):
            acting_pharmacist(session, pharmacy, adjoint.id, why)
