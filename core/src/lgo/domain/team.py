"""The pharmacy's team: operators created, changed, disabled and re-enabled by whoever manages the team.

The rules live here once, for the admin page and the ``lgo equipe`` commands alike:

* only a titulaire or an administrator manages the team (a préparateur or an adjoint cannot, whatever the page);
* a pharmacy always keeps one active administrator — the last one can be neither disabled nor given another role;
* an administrator never knows an operator's password: creating an operator or resetting a password gives a
  temporary one, shown once, and the operator chooses their own at the next sign-in;
* habilitations are those the kernel and the loaded plugins declare (``Kernel.habilitations()``), with their French
  labels; a new operator gets the defaults of their role.

Every change is written to the audit log with the operator who made it (``by``; ``None`` for the command line on
the server) and the names of the people concerned.
"""

from __future__ import annotations

import getpass
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lgo.domain import audit
from lgo.domain.pharmacy import (
    DEFAULT_HABILITATIONS,
    Operator,
    OperatorHabilitation,
    Role,
    hash_password,
)
from lgo.domain.scoped import get_scoped
from lgo.errors import PermissionDenied, ValidationError
from lgo.identifiers import check_rpps
from lgo.plugins.registrations import HabilitationDefinition

if TYPE_CHECKING:
    from lgo.kernel import Kernel

#: Roles that manage the team (and, decision 0900, change the settings).
TEAM_MANAGERS = (Role.TITULAIRE, Role.ADMINISTRATEUR)

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$")
#: Letters and digits that cannot be mistaken for one another when read aloud or copied from a screen.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def habilitation_definitions(kernel: Kernel) -> list[HabilitationDefinition]:
    """Every habilitation an administrator may grant, with its French label: the kernel's and the loaded plugins'
    (:meth:`lgo.kernel.Kernel.habilitations`)."""
    return kernel.habilitations()


def can_manage_team(role: Role | str) -> bool:
    return Role(role) in TEAM_MANAGERS


def _give_temporary_password(session: Session, operator: Operator) -> str:
    """A temporary password for ``operator`` (returned, to be given once), to replace at their next sign-in."""
    password = temporary_password()
    operator.password_hash = hash_password(password)
    operator.must_change_password = True
    session.flush()
    return password


def temporary_password() -> str:
    """12 unambiguous characters in three groups (``k7mq-2xhp-c9rt``): read once to the operator, replaced at their
    next sign-in."""
    chars = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def _manager(session: Session, pharmacy_id: int, by: int | None) -> Operator | None:
    """The operator acting (``None``: the command line on the server, trusted like the database itself)."""
    if by is None:
        return None
    operator = session.get(Operator, by)
    if operator is None or operator.pharmacy_id != pharmacy_id or not operator.active:
        raise PermissionDenied("Opérateur inconnu : reconnectez-vous.", detail=f"operator {by} not in {pharmacy_id}")
    if not can_manage_team(operator.role):
        raise PermissionDenied(
            f"Seul un pharmacien titulaire ou un administrateur gère l'équipe ({operator.display_name} est "
            f"{Role(operator.role).label_fr}).",
            detail=f"operator {by} ({operator.role}) may not manage the team",
        )
    return operator


def _record(
    session: Session, pharmacy_id: int, action: str, message_fr: str, by: Operator | None, target: Operator
) -> None:
    origin = f" par {by.display_name}" if by else f" en ligne de commande (utilisateur système {getpass.getuser()})"
    audit.record(
        session,
        pharmacy_id,
        action,
        (message_fr + origin + ".")[:500],
        actor="kernel" if by else "cli",
        operator_id=by.id if by else None,
        object_type="operator",
        object_id=target.id,
    )


def _clean_name(value: str, what_fr: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationError(f"Indiquez le {what_fr}.")
    if len(text) > 100:
        raise ValidationError(f"Le {what_fr} dépasse 100 caractères.")
    return text


def _check_habilitations(codes: Iterable[str], known: Sequence[HabilitationDefinition]) -> tuple[str, ...]:
    allowed = {d.code for d in known}
    chosen = tuple(dict.fromkeys(str(c) for c in codes))
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        raise ValidationError(
            "Habilitation inconnue : " + ", ".join(f"« {c} »" for c in unknown) + ".",
            detail=f"unknown habilitations {unknown}",
        )
    return chosen


def default_habilitations(role: Role, known: Sequence[HabilitationDefinition]) -> tuple[str, ...]:
    return tuple(d.code for d in known if role.value in d.default_roles)


def _rpps_for(role: Role, rpps: str | None) -> str | None:
    value = (rpps or "").strip() or None
    if role.is_pharmacist and value is None:
        raise ValidationError(f"Un {role.label_fr} doit avoir un numéro RPPS (11 chiffres).")
    return check_rpps(value) if value else None


def active_administrators(session: Session, pharmacy_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Operator)
            .where(Operator.pharmacy_id == pharmacy_id, Operator.active, Operator.role == Role.ADMINISTRATEUR)
        )
        or 0
    )


def _keeps_an_administrator(session: Session, operator: Operator, *, active: bool, role: Role) -> None:
    was_admin = operator.active and Role(operator.role) is Role.ADMINISTRATEUR
    stays_admin = active and role is Role.ADMINISTRATEUR
    if was_admin and not stays_admin and active_administrators(session, operator.pharmacy_id) <= 1:
        raise ValidationError(
            f"{operator.display_name} est le dernier administrateur actif de l'officine : créez ou réactivez d'abord "
            "un autre administrateur.",
            detail=f"operator {operator.id} is the last active administrator",
        )


def first_administrator(
    session: Session, pharmacy_id: int, *, code: str, last_name: str, first_name: str, password: str
) -> Operator:
    """The administrator ``lgo init`` creates: they choose their password now (nobody else could give it)."""
    operator = create_operator(
        session, pharmacy_id, code=code, last_name=last_name, first_name=first_name, role=Role.ADMINISTRATEUR
    )
    operator.set_password(password)
    session.flush()
    _record(
        session,
        pharmacy_id,
        "team.created",
        f"Premier administrateur créé : {operator.display_name} (code {operator.code})",
        None,
        operator,
    )
    return operator


def create_operator(
    session: Session,
    pharmacy_id: int,
    *,
    code: str,
    last_name: str,
    first_name: str,
    role: Role,
    rpps: str | None = None,
    password: str | None = None,
    habilitations: Iterable[str] | None = None,
) -> Operator:
    """A new operator, checked the same for every way in (the team page, ``lgo init``, the demonstration): a free and
    well-formed code, the names, a pharmacist's RPPS; ``habilitations`` None: the defaults of the role."""
    code = (code or "").strip()
    if not _CODE.match(code):
        raise ValidationError(
            f"Code opérateur invalide : « {code[:40]} » (2 à 32 lettres sans accent, chiffres, « . », « - » ou « _ », "
            "sans espace)."
        )
    taken = session.scalar(select(Operator.id).where(Operator.pharmacy_id == pharmacy_id, Operator.code == code))
    if taken is not None:
        raise ValidationError(f"Le code « {code} » est déjà utilisé dans l'officine : choisissez-en un autre.")
    operator = Operator(
        pharmacy_id=pharmacy_id,
        code=code,
        last_name=_clean_name(last_name, "nom"),
        first_name=_clean_name(first_name, "prénom"),
        role=role,
        rpps=_rpps_for(role, rpps),
    )
    if password:
        operator.set_password(password)
    for habilitation in DEFAULT_HABILITATIONS[role] if habilitations is None else habilitations:
        operator.habilitations.append(OperatorHabilitation(pharmacy_id=pharmacy_id, habilitation=str(habilitation)))
    session.add(operator)
    session.flush()
    return operator


def add_operator(
    session: Session,
    pharmacy_id: int,
    known: Sequence[HabilitationDefinition],
    *,
    code: str,
    last_name: str,
    first_name: str,
    role: Role,
    rpps: str | None = None,
    habilitations: Iterable[str] | None = None,
    by: int | None,
) -> tuple[Operator, str]:
    """A new operator with a temporary password (returned, to be given to them once); ``habilitations`` None: the
    defaults of the role among ``known``."""
    manager = _manager(session, pharmacy_id, by)
    chosen = default_habilitations(role, known) if habilitations is None else _check_habilitations(habilitations, known)
    operator = create_operator(
        session,
        pharmacy_id,
        code=code,
        last_name=last_name,
        first_name=first_name,
        role=role,
        rpps=rpps,
        habilitations=chosen,
    )
    password = _give_temporary_password(session, operator)
    _record(
        session,
        pharmacy_id,
        "team.created",
        f"Opérateur créé : {operator.display_name} (code {operator.code}, {Role(role).label_fr})",
        manager,
        operator,
    )
    return operator, password


def update_operator(
    session: Session,
    pharmacy_id: int,
    operator_id: object,
    known: Sequence[HabilitationDefinition],
    *,
    last_name: str,
    first_name: str,
    role: Role,
    rpps: str | None,
    habilitations: Iterable[str],
    by: int | None,
) -> Operator:
    """Change an operator's name, role, RPPS and habilitations (a habilitation no plugin declares any more is
    kept: it may come back with its plugin)."""
    manager = _manager(session, pharmacy_id, by)
    operator = get_scoped(session, Operator, operator_id, pharmacy_id, "opérateur")
    _keeps_an_administrator(session, operator, active=operator.active, role=role)
    chosen = set(_check_habilitations(habilitations, known))
    declared = {d.code for d in known}
    before = {h.habilitation for h in operator.habilitations}
    operator.last_name = _clean_name(last_name, "nom")
    operator.first_name = _clean_name(first_name, "prénom")
    operator.rpps = _rpps_for(role, rpps)
    operator.role = role
    keep = chosen | (before - declared)
    for row in list(operator.habilitations):
        if row.habilitation not in keep:
            operator.habilitations.remove(row)
    for code in sorted(keep - before):
        operator.habilitations.append(OperatorHabilitation(pharmacy_id=pharmacy_id, habilitation=code))
    session.flush()
    labels = {d.code: d.label_fr for d in known}
    granted = [labels.get(c, c) for c in sorted(keep - before)]
    removed = [labels.get(c, c) for c in sorted(before - keep)]
    changes = "".join(
        (
            f" ; habilitations ajoutées : {', '.join(granted)}" if granted else "",
            f" ; habilitations retirées : {', '.join(removed)}" if removed else "",
        )
    )
    _record(
        session,
        pharmacy_id,
        "team.updated",
        f"Opérateur modifié : {operator.display_name} ({Role(role).label_fr}){changes}",
        manager,
        operator,
    )
    return operator


def set_active(session: Session, pharmacy_id: int, operator_id: object, active: bool, *, by: int | None) -> Operator:
    """Disable (the operator can no longer sign in; their history stays) or re-enable an operator."""
    manager = _manager(session, pharmacy_id, by)
    operator = get_scoped(session, Operator, operator_id, pharmacy_id, "opérateur")
    if operator.active == active:
        return operator
    _keeps_an_administrator(session, operator, active=active, role=Role(operator.role))
    operator.active = active
    session.flush()
    _record(
        session,
        pharmacy_id,
        "team.enabled" if active else "team.disabled",
        f"Opérateur {'réactivé' if active else 'désactivé'} : {operator.display_name} (code {operator.code})",
        manager,
        operator,
    )
    return operator


def reset_password(session: Session, pharmacy_id: int, operator_id: object, *, by: int | None) -> tuple[Operator, str]:
    """A new temporary password (returned, shown once); the operator chooses their own at the next sign-in."""
    manager = _manager(session, pharmacy_id, by)
    operator = get_scoped(session, Operator, operator_id, pharmacy_id, "opérateur")
    password = _give_temporary_password(session, operator)
    _record(
        session,
        pharmacy_id,
        "team.password_reset",
        f"Mot de passe réinitialisé pour {operator.display_name} (code {operator.code}) : mot de passe provisoire "
        "à remplacer à la prochaine connexion",
        manager,
        operator,
    )
    return operator, password


def choose_password(session: Session, operator: Operator, current: str, new: str, confirmation: str) -> None:
    """The operator replaces their (temporary) password with one of their own."""
    if not operator.check_password(current):
        raise ValidationError("Le mot de passe actuel est incorrect.")
    if new != confirmation:
        raise ValidationError("Les deux saisies du nouveau mot de passe sont différentes.")
    if new == current:
        raise ValidationError("Choisissez un mot de passe différent du mot de passe provisoire.")
    operator.set_password(new)
    operator.must_change_password = False
    session.flush()
    audit.record(
        session,
        operator.pharmacy_id,
        "team.password_chosen",
        f"{operator.display_name} a choisi son mot de passe.",
        operator_id=operator.id,
        object_type="operator",
        object_id=operator.id,
    )


def find_by_code(session: Session, pharmacy_id: int, code: str) -> Operator:
    from lgo.errors import NotFound

    operator = session.scalar(select(Operator).where(Operator.pharmacy_id == pharmacy_id, Operator.code == code))
    if operator is None:
        raise NotFound(f"Aucun opérateur avec le code « {code} » dans l'officine.")
    return operator


def members(session: Session, pharmacy_id: int) -> list[Operator]:
    return list(
        session.scalars(
            select(Operator)
            .where(Operator.pharmacy_id == pharmacy_id)
            .order_by(Operator.active.desc(), Operator.last_name, Operator.first_name)
        )
    )
