"""Two pharmacies in one database: the administrator of the second can neither read nor change the first's
mailboxes, habilitations, operators, PSC links or outbox messages, whatever id they put in a form, an address or a
command line (issue 17, point 5)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from lgo.demo_data import PASSWORD, Seeded, seed
from lgo.domain.outbox import OutboxMessage, OutboxStatus, enqueue
from lgo.kernel import Kernel
from sqlalchemy import select

OTHER_FINESS = "999000029"
FIRST_BOX = "officine-premiere@pharmacie.mssante.fr"
SECOND_BOX = "officine-seconde@pharmacie.mssante.fr"


@dataclass
class TwoPharmacies:
    kernel: Kernel
    first: Seeded
    second: Seeded
    first_box: int
    second_box: int
    first_message: int
    #: The second pharmacy's administrator (titulaire), signed in to the second pharmacy's page.
    client: Any

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, path
        return str(response.get_data(as_text=True))

    def post(self, page: str, action: str, data: dict[str, Any]) -> str:
        token = _token(self.page(page))
        response = self.client.post(action, data={**data, "csrf_token": token}, follow_redirects=True)
        assert response.status_code < 500
        return str(response.get_data(as_text=True))


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.fixture
def world(lgo_database_url: str) -> Iterator[TwoPharmacies]:
    from lgo_mssante import accounts
    from lgo_psc.model import PscBinding
    from lgo_web import create_app

    kernel = Kernel(lgo_database_url, discover_installed=True)
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        first, second = seed(session), seed(session, finess=OTHER_FINESS)
    boxes = []
    for seeded, address in ((first, FIRST_BOX), (second, SECOND_BOX)):
        for name in ("mssante", "psc"):
            kernel.enable(seeded.pharmacy_id, name, with_dependencies=True)
        kernel.select_provider(seeded.pharmacy_id, "mssante", "organisationnelle")
        boxes.append(
            accounts.add_organisational(kernel, seeded.pharmacy_id, address=address, login=address, password="s")
        )
    accounts.set_habilitation(kernel, first.pharmacy_id, boxes[0], first.operators["adjoint"], "Utilisateur")
    with kernel.transaction() as session:
        session.add(
            PscBinding(
                pharmacy_id=first.pharmacy_id, operator_id=first.operators["titulaire"], sub="f:premiere", rpps="1"
            )
        )
        message = enqueue(session, first.pharmacy_id, plugin="kernel", kind="http.post", payload={"url": "x"})
        message.status = OutboxStatus.DEAD
        first_message = message.id
    client = create_app(kernel, pharmacy_finess=OTHER_FINESS, secure_cookies=False).test_client()
    token = _token(client.get("/connexion").get_data(as_text=True))
    client.post("/connexion", data={"code": "titulaire", "password": PASSWORD, "csrf_token": token})
    try:
        yield TwoPharmacies(kernel, first, second, boxes[0], boxes[1], first_message, client)
    finally:
        kernel.close()


def _habilitations(world: TwoPharmacies) -> list[tuple[int, int, int, str]]:
    from lgo_mssante.model import MssHabilitation

    with world.kernel.transaction() as session:
        return [
            (h.pharmacy_id, h.account_id, h.operator_id, h.habilitation.value)
            for h in session.scalars(select(MssHabilitation).order_by(MssHabilitation.id))
        ]


def test_the_second_pharmacy_does_not_see_the_first_s_mailboxes_operators_or_links(world: TwoPharmacies) -> None:
    mss = world.page("/plugins/mssante/")
    assert SECOND_BOX in mss and FIRST_BOX not in mss
    assert f"Boîte n° {world.first_box} " not in mss
    psc = world.page("/plugins/psc/")
    assert "f:premiere" not in psc
    operations = world.page("/exploitation")
    assert f"n° {world.first_message} " not in operations


def test_habilitations_only_on_the_pharmacy_s_own_mailbox_and_operators(world: TwoPharmacies) -> None:
    before = _habilitations(world)
    # The first pharmacy's mailbox, with an operator of the second.
    page = world.post(
        "/plugins/mssante/",
        "/plugins/mssante/habilitations",
        {
            "account_id": world.first_box,
            "operator_id": world.second.operators["adjoint"],
            "habilitation": "Utilisateur",
        },
    )
    assert f"Boîte MSSanté n° {world.first_box} introuvable." in page
    # The second pharmacy's mailbox, with an operator of the first.
    page = world.post(
        "/plugins/mssante/",
        "/plugins/mssante/habilitations",
        {
            "account_id": world.second_box,
            "operator_id": world.first.operators["preparatrice"],
            "habilitation": "Administrateur",
        },
    )
    assert f"Opérateur n° {world.first.operators['preparatrice']} introuvable." in page
    assert _habilitations(world) == before
    # Its own mailbox and operator: allowed.
    world.post(
        "/plugins/mssante/",
        "/plugins/mssante/habilitations",
        {
            "account_id": world.second_box,
            "operator_id": world.second.operators["adjoint"],
            "habilitation": "Gestionnaire",
        },
    )
    assert _habilitations(world)[-1] == (
        world.second.pharmacy_id,
        world.second_box,
        world.second.operators["adjoint"],
        "Gestionnaire",
    )


def test_a_nominative_mailbox_only_for_an_operator_of_the_pharmacy(world: TwoPharmacies) -> None:
    import io

    from lgo_mssante.model import MssAccount

    token = _token(world.page("/plugins/mssante/"))
    response = world.client.post(
        "/plugins/mssante/boites-nominatives",
        data={
            "operator_id": str(world.first.operators["titulaire"]),
            "address": "titulaire.premiere@pharmacien.mssante.fr",
            "password": "secret",
            "certificate": (io.BytesIO(b"pas un p12"), "perso.p12"),
            "passphrase": "x",
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert f"Opérateur n° {world.first.operators['titulaire']} introuvable." in response.get_data(as_text=True)
    with world.kernel.transaction() as session:
        assert session.scalar(select(MssAccount).where(MssAccount.address.like("titulaire.premiere%"))) is None


def test_a_duplicate_mailbox_address_is_refused_in_french(world: TwoPharmacies) -> None:
    page = world.post(
        "/plugins/mssante/", "/plugins/mssante/boites", {"address": SECOND_BOX.upper(), "password": "autre"}
    )
    assert f"La boîte MSSanté {SECOND_BOX} est déjà déclarée pour l&#39;officine." in page
    # The same address in another pharmacy is another pharmacy's business: allowed there.
    from lgo_mssante import accounts

    accounts.add_organisational(
        world.kernel, world.first.pharmacy_id, address=SECOND_BOX, login=SECOND_BOX, password="s"
    )


def test_the_first_pharmacy_s_psc_link_cannot_be_removed(world: TwoPharmacies) -> None:
    from lgo_psc.model import PscBinding

    page = world.post("/plugins/psc/", f"/plugins/psc/liaisons/{world.first.operators['titulaire']}/delier", {})
    assert f"Opérateur n° {world.first.operators['titulaire']} introuvable." in page
    with world.kernel.transaction() as session:
        assert session.scalar(select(PscBinding).where(PscBinding.sub == "f:premiere")) is not None


def test_the_first_pharmacy_s_outbox_message_cannot_be_sent_again(world: TwoPharmacies) -> None:
    page = world.post("/exploitation", f"/exploitation/messages/{world.first_message}/relancer", {})
    assert f"Aucun message n° {world.first_message} dans la file d&#39;envoi." in page
    with world.kernel.transaction() as session:
        message = session.get(OutboxMessage, world.first_message)
        assert message is not None and message.status == OutboxStatus.DEAD


def test_the_command_line_of_the_second_pharmacy_cannot_touch_the_first_s_mailbox(
    world: TwoPharmacies, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lgo.cli import main

    before = _habilitations(world)
    url = world.kernel.engine.url.render_as_string(hide_password=False)
    args = ["mssante", "habilitation", str(world.first_box), "--operateur", "adjoint", "--role", "Administrateur"]
    result = CliRunner().invoke(
        main,
        [*args, "--admin", "titulaire"],
        env={"LGO_DATABASE_URL": url, "LGO_PHARMACY": OTHER_FINESS},
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 1 and f"Boîte MSSanté n° {world.first_box} introuvable." in result.output
    assert _habilitations(world) == before


def test_the_annuaire_api_key_is_stored_encrypted(world: TwoPharmacies) -> None:
    from lgo.domain.plugin_state import PluginSettings

    pharmacy = world.second.pharmacy_id
    current = world.kernel.plugin_settings(pharmacy, "mssante").model_dump()
    world.kernel.save_plugin_settings(pharmacy, "mssante", {**current, "annuaire_api_key": "cle-annuaire-secrete"})
    with world.kernel.transaction() as session:
        row = session.get(PluginSettings, (pharmacy, "mssante"))
        assert row is not None
        stored = str(row.values["annuaire_api_key"])
    assert stored.startswith("enc:v1:") and "cle-annuaire-secrete" not in stored
    settings: Any = world.kernel.plugin_settings(pharmacy, "mssante")
    assert settings.annuaire_api_key.get_secret_value() == "cle-annuaire-secrete"


def test_the_counter_pages_of_issue_20_never_show_the_first_pharmacy_s_patient_or_messages(
    world: TwoPharmacies,
) -> None:
    """The patient's file, its documents, the MSSanté mailbox and its attachment page, reached with the first
    pharmacy's ids typed in the address by the second's titulaire: not found, nothing of the first shown."""
    from lgo.documents import create_draft
    from lgo_mssante import accounts
    from lgo_mssante.model import Direction, MessageStatus, MssMessage

    first_patient = world.first.patients["camille"]
    with world.kernel.transaction() as session:
        message = MssMessage(
            pharmacy_id=world.first.pharmacy_id,
            account_id=world.first_box,
            direction=Direction.IN,
            message_id="<premiere@medecin>",
            peer="Dr Première <premiere@medecin.mssante.fr>",
            subject="Compte rendu MARTIN-PREMIERE",
            status=MessageStatus.QUARANTINED,
        )
        session.add(message)
        document = create_draft(
            session,
            pharmacy_id=world.first.pharmacy_id,
            patient_id=first_patient,
            author_operator_id=world.first.operators["titulaire"],
            type_code="78601-2",
            type_display="CR d'entretien pharmaceutique",
            title="Entretien de la première officine",
            source_plugin="entretiens",
        )
        session.flush()
        message_id, document_id = message.id, document.id
    accounts.set_habilitation(
        world.kernel, world.second.pharmacy_id, world.second_box, world.second.operators["titulaire"], "Gestionnaire"
    )
    for path in (
        f"/comptoir/patients/{first_patient}/dossier",
        f"/comptoir/patients/{first_patient}/documents/{document_id}",
        f"/comptoir/patients/{world.second.patients['camille']}/documents/{document_id}",
        f"/plugins/mssante/boite/?m={message_id}",
        f"/plugins/mssante/boite/?dossier=quarantaine&m={message_id}",
        f"/plugins/mssante/boite/messages/{message_id}/rattacher?patient_id={first_patient}",
        f"/plugins/mssante/boite/nouveau?patient_id={first_patient}&forward_of={message_id}",
    ):
        response = world.client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 404, (path, response.status_code)
        assert "PREMIERE" not in page and "Première" not in page and "première officine" not in page, path
