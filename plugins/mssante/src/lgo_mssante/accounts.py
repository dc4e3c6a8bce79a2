"""Mailboxes and who may use them, and the ONE place that turns a mailbox into a ready provider.

Certificates live in the kernel's store (:mod:`lgo.domain.certificates`): the organisational mailbox presents the
pharmacy's organisation certificate; a nominative (Mailiz) mailbox presents its owner's personal certificate, stored
there under the kind ``personne-<operator id>``. Passwords are encrypted with :mod:`lgo.secrets`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lgo.api import NotFound, Operator, ValidationError, certificates, check_text, get_scoped, secrets
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lgo_mssante.model import AccountKind, Habilitation, MssAccount, MssHabilitation
from lgo_mssante.provider import MailAccount, MssanteProvider, NotAllowed

if TYPE_CHECKING:
    from lgo.api import Kernel
    from sqlalchemy.orm import Session

PLUGIN = "mssante"
CAPABILITY = "mssante"


#: An e-mail address as MSSanté uses them (checked before anything is stored or sent).
ADDRESS = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
MAX_ADDRESS = 254


def personal_certificate_kind(operator_id: int) -> str:
    return f"personne-{operator_id}"


def _checked(address: str, login: str) -> tuple[str, str]:
    address = address.strip().lower()
    if len(address) > MAX_ADDRESS or not ADDRESS.match(address):
        raise ValidationError(f"Adresse MSSanté invalide : « {address[:80]} ».", detail=f"address {address[:300]!r}")
    if not login:
        raise ValidationError("Indiquez l'identifiant de connexion de la boîte.", detail="empty login")
    return address, check_text(login, length=MAX_ADDRESS, label_fr="identifiant de connexion")


def _refuse_duplicate(session: Session, pharmacy_id: int, address: str) -> None:
    exists = session.scalar(
        select(MssAccount.id).where(MssAccount.pharmacy_id == pharmacy_id, MssAccount.address == address)
    )
    if exists is not None:
        raise ValidationError(
            f"La boîte MSSanté {address} est déjà déclarée pour l'officine.", detail=f"duplicate address {address}"
        )


@contextmanager
def _one_box_per_address(address: str) -> Iterator[None]:
    """The same address declared twice at the same moment: the database's unique key decides, in French."""
    try:
        yield
    except IntegrityError as exc:
        raise ValidationError(
            f"La boîte MSSanté {address} est déjà déclarée pour l'officine.", detail=str(exc.orig)
        ) from exc


def add_organisational(
    kernel: Kernel, pharmacy_id: int, *, address: str, login: str, password: str, operator_id: int | None = None
) -> int:
    address, login = _checked(address, login)
    with _one_box_per_address(address), kernel.transaction() as session:
        _refuse_duplicate(session, pharmacy_id, address)
        row = MssAccount(
            pharmacy_id=pharmacy_id,
            kind=AccountKind.ORGANISATIONAL,
            address=address,
            login=login,
            password_encrypted=secrets.encrypt(password),
            active=True,
        )
        session.add(row)
        session.flush()
        kernel.audit(
            pharmacy_id,
            "mssante.account",
            f"Boîte organisationnelle MSSanté ajoutée : {address}.",
            session=session,
            operator_id=operator_id,
            object_type="mssante_account",
            object_id=row.id,
        )
        return row.id


def add_personal(
    kernel: Kernel,
    pharmacy_id: int,
    *,
    operator_id: int,
    address: str,
    login: str,
    password: str,
    pkcs12: bytes,
    passphrase: str,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
    imap_host: str | None = None,
    imap_port: int | None = None,
    by_operator_id: int | None = None,
) -> int:
    """A pharmacist's nominative mailbox (Mailiz) with their personal certificate and own server settings, declared
    by ``by_operator_id`` (the administrator acting; the owner when None). ``operator_id`` may come from a form: it
    must be an operator of this pharmacy."""
    address, login = _checked(address, login)
    with _one_box_per_address(address), kernel.transaction() as session:
        operator = get_scoped(session, Operator, operator_id, pharmacy_id, "opérateur")
        operator_id = operator.id
        if not operator.rpps:
            raise ValidationError(
                "Une boîte nominative MSSanté appartient à un pharmacien identifié par son RPPS.",
                detail=f"operator {operator_id} without RPPS",
            )
        _refuse_duplicate(session, pharmacy_id, address)
        actor = operator_id if by_operator_id is None else by_operator_id
        # A person's certificate names no structure (no FINESS to compare); its other warnings are kept in the
        # audit entry of the store.
        certificates.store(
            session,
            pharmacy_id,
            pkcs12,
            passphrase,
            kind=personal_certificate_kind(operator_id),
            operator_id=actor,
            accept_warnings=True,
            expects_finess=False,
        )
        row = MssAccount(
            pharmacy_id=pharmacy_id,
            kind=AccountKind.PERSONAL,
            address=address,
            operator_id=operator_id,
            login=login,
            password_encrypted=secrets.encrypt(password),
            smtp_host=smtp_host,
            smtp_port=smtp_port,
            imap_host=imap_host,
            imap_port=imap_port,
            active=True,
        )
        session.add(row)
        session.flush()
        kernel.audit(
            pharmacy_id,
            "mssante.account",
            f"Boîte nominative MSSanté ajoutée pour {operator.display_name} : {address}.",
            session=session,
            operator_id=actor,
            object_type="mssante_account",
            object_id=row.id,
        )
        return row.id


def set_habilitation(
    kernel: Kernel,
    pharmacy_id: int,
    account_id: int,
    operator_id: int,
    habilitation: str,
    *,
    by_operator_id: int | None = None,
) -> None:
    try:
        value = Habilitation(habilitation)
    except ValueError as exc:
        raise ValidationError(
            "Habilitation inconnue : choisissez Administrateur, Gestionnaire ou Utilisateur.",
            detail=f"habilitation {habilitation!r}",
        ) from exc
    with kernel.transaction() as session:
        # Both ids may come from a form or the command line: only this pharmacy's mailbox and operator.
        account = get_scoped(session, MssAccount, account_id, pharmacy_id, "boîte MSSanté")
        operator = get_scoped(session, Operator, operator_id, pharmacy_id, "opérateur")
        if account.kind != AccountKind.ORGANISATIONAL:
            raise ValidationError(
                "Les habilitations ne concernent que la boîte organisationnelle de l'officine.",
                detail=f"account {account.id} is {account.kind}",
            )
        account_id, operator_id = account.id, operator.id
        row = session.scalar(
            select(MssHabilitation).where(
                MssHabilitation.pharmacy_id == pharmacy_id,
                MssHabilitation.account_id == account_id,
                MssHabilitation.operator_id == operator_id,
            )
        )
        if row is None:
            row = MssHabilitation(
                pharmacy_id=pharmacy_id, account_id=account_id, operator_id=operator_id, habilitation=value
            )
            session.add(row)
        row.habilitation = value
        kernel.audit(
            pharmacy_id,
            "mssante.habilitation",
            f"Habilitation {value.value} sur la boîte organisationnelle {account.address} pour "
            f"{operator.display_name}.",
            session=session,
            operator_id=by_operator_id,
            object_type="mssante_account",
            object_id=account_id,
        )


def accounts_for_provider(session: Session, pharmacy_id: int, provider: str) -> list[MssAccount]:
    kind = AccountKind.PERSONAL if provider == "mailiz" else AccountKind.ORGANISATIONAL
    return list(
        session.scalars(
            select(MssAccount)
            .where(
                MssAccount.pharmacy_id == pharmacy_id,
                MssAccount.kind == kind,
                MssAccount.active.is_(True),
            )
            .order_by(MssAccount.id)
        )
    )


def sending_account(session: Session, pharmacy_id: int, provider: str, operator_id: int) -> MssAccount:
    """The mailbox an operator sends from under the selected provider (their own with Mailiz)."""
    candidates = accounts_for_provider(session, pharmacy_id, provider)
    if provider == "mailiz":
        candidates = [a for a in candidates if a.operator_id == operator_id]
        if not candidates:
            raise NotFound(
                "Vous n'avez pas de boîte MSSanté nominative (Mailiz) configurée.",
                detail=f"operator {operator_id} has no personal mailbox",
            )
    elif not candidates:
        raise NotFound(
            "Aucune boîte MSSanté organisationnelle n'est configurée pour l'officine.",
            detail="no organisational mailbox",
        )
    return candidates[0]


def habilitation(session: Session, account: MssAccount, operator_id: int | None) -> str | None:
    if operator_id is None:
        return None
    row = session.scalar(
        select(MssHabilitation).where(
            MssHabilitation.account_id == account.id, MssHabilitation.operator_id == operator_id
        )
    )
    return row.habilitation.value if row else None


def provider_for(kernel: Kernel, pharmacy_id: int, account_id: int, *, operator_id: int | None) -> MssanteProvider:
    """The selected provider on this mailbox, for this operator (None: the pharmacy's worker)."""
    provider_name = kernel.selected_provider(pharmacy_id, CAPABILITY) or ""
    factory = kernel.provider(pharmacy_id, CAPABILITY)
    settings: Any = kernel.plugin_settings(pharmacy_id, PLUGIN)
    with kernel.transaction() as session:
        account = get_scoped(session, MssAccount, account_id, pharmacy_id, "boîte MSSanté")
        # A nominative box presents its owner's own certificate, never the pharmacy's: no fallback there.
        credential = (
            certificates.load(session, pharmacy_id, personal_certificate_kind(account.operator_id))
            if account.kind == AccountKind.PERSONAL and account.operator_id
            else certificates.pharmacy_credential(session, pharmacy_id)
        )
        rpps = None
        if account.operator_id is not None:
            owner = session.get(Operator, account.operator_id)
            rpps = owner.rpps if owner else None
        if account.kind == AccountKind.PERSONAL and operator_id not in (None, account.operator_id):
            raise NotAllowed(
                "Cette boîte nominative appartient à un autre pharmacien.",
                detail=f"operator {operator_id} on account {account.id}",
            )
        mail_account = MailAccount(
            address=account.address,
            login=account.login,
            password=secrets.decrypt(account.password_encrypted),
            credential=credential,
            ca_path=settings.ca_path or None,
            smtp_host=account.smtp_host or settings.smtp_host,
            smtp_port=account.smtp_port or settings.smtp_port,
            imap_host=account.imap_host or settings.imap_host,
            imap_port=account.imap_port or settings.imap_port,
            timeout=settings.timeout_seconds,
            kind=account.kind.value,
            operator_id=operator_id,
            habilitation=habilitation(session, account, operator_id),
            rpps=rpps,
        )
    provider: MssanteProvider = factory(mail_account, settings)
    if provider_name and getattr(provider, "name", provider_name) != provider_name:
        raise ValidationError(
            "Le fournisseur MSSanté chargé ne correspond pas au choix de l'officine.",
            detail=f"{provider_name} != {getattr(provider, 'name', None)}",
        )
    return provider
