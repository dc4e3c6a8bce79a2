"""The ``mailiz`` provider: a pharmacist's nominative mailbox (Mailiz, the Ordres' MSSanté service), reached with
the pharmacist's own certificate. Only its owner uses it, and only a professional identified by RPPS has one."""

from __future__ import annotations

from typing import Any

from lgo_mssante.provider import MailAccount, NotAllowed, StandardMailTransport


class MailizProvider(StandardMailTransport):
    """Registered as the ``mailiz`` driver: built with ``(account, settings)``."""

    name = "mailiz"
    label = "Mailiz — boîte nominative du pharmacien (certificat personnel)"

    def __init__(self, account: MailAccount, settings: Any = None) -> None:
        if account.kind != "personnelle" or not account.rpps:
            raise NotAllowed(
                "Le fournisseur Mailiz demande la boîte nominative d'un pharmacien identifié par son RPPS.",
                detail=f"account {account.address} kind={account.kind} rpps={account.rpps}",
            )
        super().__init__(account)
