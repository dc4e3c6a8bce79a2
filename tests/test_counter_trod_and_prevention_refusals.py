"""The TROD and bilan prévention windows when the answer is no, through the real web app (test client, real plugins,
no national service needed): a patient outside the angine protocol sees the reasons in French, the test is still
done and billed at the negative/orientation fee with the orientation on the attestation; an expired test device is
refused in the same window; the attestation PDF is served to the pharmacy's operators only; a patient outside the
bilan's age bands is told so."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import lgo_depistage.plugin
import lgo_prevention.plugin
import pytest
from lgo.demo_data import PASSWORD, Seeded
from lgo.kernel import Kernel
from lgo_depistage.model import DepistageTest, TrodStatus
from sqlalchemy import select

pytestmark = pytest.mark.parametrize("lgo_backend", ["sqlite"])


@pytest.fixture
def counter(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> Iterator[tuple[Any, Kernel, Seeded]]:
    kernel = lgo_make_kernel(lgo_depistage.plugin, lgo_prevention.plugin)
    for name in ("depistage", "prevention"):
        kernel.enable(lgo_seeded.pharmacy_id, name)
    yield _signed_in(kernel, "titulaire"), kernel, lgo_seeded


def _signed_in(kernel: Kernel, code: str) -> Any:
    from lgo_web import create_app

    client = create_app(kernel, secure_cookies=False).test_client()
    login = client.get("/connexion").get_data(as_text=True)
    signed = client.post("/connexion", data={"code": code, "password": PASSWORD, "csrf_token": _token(login)})
    assert signed.status_code == 302
    return client


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def _page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def _answer(client: Any, billing: str, **values: str) -> str:
    """Post the window on screen (its form's action) with these values; the page after it."""
    page = _page(client, billing)
    found = re.search(r'action="(/comptoir/f/\d+/action/\d+\?v=\d+)"', page)
    assert found, page[-2000:]
    response = client.post(found.group(1), data={"csrf_token": _token(page), **values})
    assert response.status_code == 302
    return _page(client, billing)


def _open(client: Any, patient_id: int) -> str:
    home = _page(client, "/comptoir/")
    response = client.post("/comptoir/ouvrir", data={"csrf_token": _token(home), "patient_id": str(patient_id)})
    assert response.status_code == 302
    return str(response.headers["Location"])


def _key(client: Any, billing: str, command: str) -> str:
    page = _page(client, billing)
    response = client.post(f"{billing}/commande/{command}", data={"csrf_token": _token(page)})
    assert response.status_code == 302
    return _page(client, billing)


def test_a_patient_outside_the_angine_protocol_sees_why_and_is_oriented(counter: tuple[Any, Kernel, Seeded]) -> None:
    client, kernel, seeded = counter
    billing = _open(client, seeded.patients["camille"])
    page = _key(client, billing, "depistage.trod")
    assert "TROD : choisissez le test" in page and "Alt+T" in page
    _answer(client, billing, choice="angine", consent="oui")
    recent = (date.today() - timedelta(days=3)).strftime("%d/%m/%Y")
    page = _answer(
        client,
        billing,
        choice="answer",
        temperature="40",
        episode_precedent=recent,
        toux_absente="oui",
        adenopathies="oui",
        amygdales="oui",
    )
    assert "Hors protocole : pas d'antibiotique sans ordonnance" in page
    assert "fièvre à 40,0 °C (plus de 39,5 °C)" in page
    assert "épisode semblable il y a 3 jour(s) (moins de 15 jours)" in page
    expired = (date.today() - timedelta(days=1)).strftime("%d/%m/%Y")
    page = _answer(
        client, billing, choice="device", maker="Démo Diagnostics", reference="STREP-A", lot="L1", expiry=expired
    )
    assert f"Ce test est périmé depuis le {expired} : utilisez-en un autre." in page  # same window, nothing kept
    good = (date.today() + timedelta(days=90)).strftime("%d/%m/%Y")
    _answer(client, billing, choice="device", maker="Démo Diagnostics", reference="STREP-A", lot="L1", expiry=good)
    page = _answer(client, billing, choice="result", streptocoque="positive")
    assert "antibiotique du protocole" not in page  # not eligible: no antibiotic window
    assert "TROD positif, hors du protocole de délivrance sans ordonnance : orientation vers un médecin." in page
    assert "TRD — TROD angine (négatif ou ordonnance conditionnelle)" in page
    page = _answer(client, billing, choice="validate")
    assert "TROD validé" in page and "total 10,00 €" in page
    assert "L'attestation attend la qualification de l'identité du patient" in page
    with kernel.transaction() as session:
        test = session.scalars(select(DepistageTest)).one()
        assert test.status == TrodStatus.WAITING_IDENTITY and test.antibiotic is None
        test_id = test.id
    pdf = client.get(f"/plugins/depistage/attestation/{test_id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(f"/plugins/depistage/attestation/{test_id + 1}").status_code == 404


def test_a_trod_left_for_later_is_resumed_where_it_stopped(counter: tuple[Any, Kernel, Seeded]) -> None:
    client, _kernel, seeded = counter
    billing = _open(client, seeded.patients["camille"])
    _key(client, billing, "depistage.trod")
    _answer(client, billing, choice="angine", consent="oui")
    page = _answer(client, billing, choice="answer", temperature="38,5", toux_absente="oui", adenopathies="oui")
    assert "DataMatrix du test" in page
    page = _answer(client, billing, choice="later")  # Échap: the patient steps away
    assert "DataMatrix du test" not in page and "en cours" in page  # the banner shows the unfinished test
    page = _key(client, billing, "depistage.trod")
    assert "Reprendre le TROD angine (streptocoque du groupe A) en cours" in page
    page = _answer(client, billing, choice="resume")
    assert "DataMatrix du test" in page and "Éligible au protocole" in page


def test_a_preparer_is_told_at_once_that_a_pharmacist_performs_the_trod(counter: tuple[Any, Kernel, Seeded]) -> None:
    _client, kernel, seeded = counter
    client = _signed_in(kernel, "preparatrice")
    billing = _open(client, seeded.patients["camille"])
    page = _key(client, billing, "depistage.trod")
    assert "Un TROD est réalisé et validé par un pharmacien identifié par son numéro RPPS." in page
    assert "TROD : choisissez le test" not in page


def test_a_bilan_prevention_outside_the_age_bands_is_refused_in_french(counter: tuple[Any, Kernel, Seeded]) -> None:
    client, _kernel, seeded = counter
    billing = _open(client, seeded.patients["camille"])  # 41 years old
    page = _key(client, billing, "prevention.bilan")
    assert "Mon bilan prévention concerne les tranches d'âge 18 à 25 ans, 45 à 50 ans" in page
    assert "l'entretien" not in page
