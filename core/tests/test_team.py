"""The team's rules, once for the page and the command line: who manages it, the last administrator, temporary
passwords, habilitations in French with the role's defaults, and an audit log naming who acted."""

from __future__ import annotations

import pytest
from lgo.demo_data import Seeded
from lgo.domain import team
from lgo.domain.audit import recent
from lgo.domain.pharmacy import Operator, Role, authenticate
from lgo.errors import NotFound, PermissionDenied, ValidationError
from lgo.kernel import Kernel

pytestmark = pytest.mark.parametrize("lgo_backend", ["sqlite"])


def test_habilitations_are_listed_in_french_with_the_roles_defaults(lgo_kernel: Kernel) -> None:
    known = team.habilitation_definitions(lgo_kernel)
    labels = {d.code: d.label_fr for d in known}
    assert labels["settings.edit"] == "Modifier les paramètres" and all(d.help_fr for d in known)
    assert set(team.default_habilitations(Role.TITULAIRE, known)) >= {"stock.force", "settings.edit"}
    assert team.default_habilitations(Role.ADMINISTRATEUR, known) == ("settings.edit",)
    assert team.default_habilitations(Role.PREPARATEUR, known) == ()


def test_an_operator_is_created_with_a_temporary_password_then_chooses_their_own(
    lgo_kernel: Kernel, lgo_seeded: Seeded
) -> None:
    pharmacy, admin = lgo_seeded.pharmacy_id, lgo_seeded.operators["admin"]
    known = team.habilitation_definitions(lgo_kernel)
    with lgo_kernel.transaction() as session:
        operator, temporary = team.add_operator(
            session, pharmacy, known, code="lbernard", last_name="Bernard", first_name="Léa",
            role=Role.PREPARATEUR, by=admin,
        )  # fmt: skip
        assert operator.must_change_password and len(temporary) == 14
        entry = recent(session, pharmacy, 1)[0]
        assert entry.operator_id == admin and entry.message_fr == (
            "Opérateur créé : Léa Bernard (code lbernard, préparateur) par Marc Petit-Démo."
        )
    with lgo_kernel.transaction() as session:
        signed = authenticate(session, pharmacy, "lbernard", temporary)
        assert signed is not None
        with pytest.raises(ValidationError, match="actuel est incorrect"):
            team.choose_password(session, signed, "pas-le-bon", "nouveau-secret", "nouveau-secret")
        with pytest.raises(ValidationError, match="différent du mot de passe provisoire"):
            team.choose_password(session, signed, temporary, temporary, temporary)
        with pytest.raises(ValidationError, match="au moins 8 caractères"):
            team.choose_password(session, signed, temporary, "court", "court")
        team.choose_password(session, signed, temporary, "nouveau-secret", "nouveau-secret")
    with lgo_kernel.transaction() as session:
        assert authenticate(session, pharmacy, "lbernard", temporary) is None
        chosen = authenticate(session, pharmacy, "lbernard", "nouveau-secret")
        assert chosen is not None and not chosen.must_change_password


def test_bad_input_is_refused_in_french_and_nothing_is_written(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    pharmacy, admin = lgo_seeded.pharmacy_id, lgo_seeded.operators["admin"]
    known = team.habilitation_definitions(lgo_kernel)
    cases = [
        ({"code": "a b"}, "Code opérateur invalide"),
        ({"code": "titulaire"}, "déjà utilisé"),
        ({"role": Role.ADJOINT, "rpps": None}, "doit avoir un numéro RPPS"),
        ({"role": Role.ADJOINT, "rpps": "12345678901"}, "clé de contrôle incorrecte"),
        ({"last_name": "   "}, "Indiquez le nom"),
        ({"habilitations": ["stock.force", "tout.faire"]}, "Habilitation inconnue : « tout.faire »"),
    ]
    for change, message in cases:
        fields = {"code": "nouveau", "last_name": "Neuf", "first_name": "Nina", "role": Role.PREPARATEUR, **change}
        with pytest.raises(ValidationError, match=message), lgo_kernel.transaction() as session:
            team.add_operator(session, pharmacy, known, by=admin, **fields)  # type: ignore[arg-type]
    with lgo_kernel.transaction() as session:
        assert [o.code for o in team.members(session, pharmacy)].count("nouveau") == 0
        with pytest.raises(NotFound, match="introuvable"):
            team.set_active(session, pharmacy, "999999", False, by=admin)


def test_a_pharmacy_always_keeps_one_active_administrator(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    pharmacy, admin, titulaire = (
        lgo_seeded.pharmacy_id,
        lgo_seeded.operators["admin"],
        lgo_seeded.operators["titulaire"],
    )
    known = team.habilitation_definitions(lgo_kernel)
    with lgo_kernel.transaction() as session:
        with pytest.raises(ValidationError, match="dernier administrateur actif"):
            team.set_active(session, pharmacy, admin, False, by=admin)
        with pytest.raises(ValidationError, match="dernier administrateur actif"):
            team.update_operator(
                session, pharmacy, admin, known, last_name="Petit", first_name="Marc", role=Role.TITULAIRE,
                rpps="99999000013", habilitations=[], by=titulaire,
            )  # fmt: skip
    with lgo_kernel.transaction() as session:
        second, _ = team.add_operator(
            session, pharmacy, known, code="admin2", last_name="Deux", first_name="Ada",
            role=Role.ADMINISTRATEUR, by=titulaire,
        )  # fmt: skip
        team.set_active(session, pharmacy, admin, False, by=second.id)  # another one remains
    with lgo_kernel.transaction() as session:
        with pytest.raises(ValidationError, match="Ada Deux est le dernier administrateur actif"):
            team.set_active(session, pharmacy, second.id, False, by=titulaire)
        team.set_active(session, pharmacy, admin, True, by=titulaire)
        assert team.active_administrators(session, pharmacy) == 2


@pytest.mark.parametrize("code", ["preparatrice", "adjoint"])
def test_only_a_titulaire_or_an_administrator_manages_the_team(
    code: str, lgo_kernel: Kernel, lgo_seeded: Seeded
) -> None:
    pharmacy, actor = lgo_seeded.pharmacy_id, lgo_seeded.operators[code]
    known = team.habilitation_definitions(lgo_kernel)
    with lgo_kernel.transaction() as session:
        with pytest.raises(PermissionDenied, match="Seul un pharmacien titulaire ou un administrateur gère l'équipe"):
            team.add_operator(
                session, pharmacy, known, code="intrus", last_name="I", first_name="I", role=Role.ADMINISTRATEUR,
                by=actor,
            )  # fmt: skip
        with pytest.raises(PermissionDenied):
            team.reset_password(session, pharmacy, lgo_seeded.operators["titulaire"], by=actor)
        with pytest.raises(PermissionDenied):
            team.set_active(session, pharmacy, lgo_seeded.operators["titulaire"], False, by=actor)
    with lgo_kernel.transaction() as session:
        titulaire = session.get(Operator, lgo_seeded.operators["titulaire"])
        assert titulaire is not None and titulaire.active and not titulaire.must_change_password
