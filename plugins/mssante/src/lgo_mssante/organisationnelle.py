"""The ``organisationnelle`` provider: the pharmacy's organisational mailbox, reached with the pharmacy's
organisation certificate. Operators use it according to their habilitation on it: Utilisateur (read and send),
Gestionnaire (also release the quarantine), Administrateur (also manage the mailbox and its habilitations)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from email.message import Message
from typing import Any

from lgo_mssante.provider import FetchedMessage, MailAccount, NotAllowed, StandardMailTransport

RIGHTS = {
    "Utilisateur": {"send", "read"},
    "Gestionnaire": {"send", "read", "quarantine"},
    "Administrateur": {"send", "read", "quarantine", "admin"},
}


def allowed(habilitation: str | None, action: str) -> bool:
    return action in RIGHTS.get(habilitation or "", set())


class OrganisationalProvider(StandardMailTransport):
    """Registered as the ``organisationnelle`` driver: built with ``(account, settings)``."""

    name = "organisationnelle"
    label = "Boîte organisationnelle de l'officine (certificat d'organisation, habilitations)"

    def __init__(self, account: MailAccount, settings: Any = None) -> None:
        if account.kind != "organisationnelle":
            raise NotAllowed(
                "Le fournisseur « organisationnelle » demande la boîte organisationnelle de l'officine.",
                detail=f"account {account.address} kind={account.kind}",
            )
        super().__init__(account)

    def _require(self, action: str) -> None:
        # The worker acts for the pharmacy (operator None); an operator acts within their habilitation.
        if self.account.operator_id is not None and not allowed(self.account.habilitation, action):
            raise NotAllowed(
                "Vous n'avez pas d'habilitation sur la boîte organisationnelle pour cette action.",
                detail=f"operator {self.account.operator_id} habilitation {self.account.habilitation} {action}",
            )

    def send(self, message: Message, recipients: Sequence[str]) -> None:
        self._require("send")
        super().send(message, recipients)

    def fetch_new(self, *, max_bytes: int) -> Iterator[FetchedMessage]:
        self._require("read")
        return super().fetch_new(max_bytes=max_bytes)
