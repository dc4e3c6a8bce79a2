"""``lgo demo --web``: the demonstration pharmacy's national services kept running while the counter is served
(INSi, DMP and ordonnance numérique sandboxes on loopback, with their test certificates), each plugin configured to
use them. Registered in the entry-point group ``lgo.demo_services``; the kernel calls it without importing it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

DEMO_QR = "ORDNUM:1:3F8B2N6W4C9H1V7"


@contextmanager
def services(kernel: Any, pharmacy_id: int) -> Iterator[list[str]]:
    """Start the sandboxes the active plugins use and point their settings at them; yields lines to print."""
    from lgo.api import Pharmacy

    from lgo_sandbox.pki import TestAuthority

    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lgo-demo-web-") as directory, ExitStack() as stack:
        authority = TestAuthority(Path(directory) / "pki")
        with kernel.transaction() as session:
            finess = session.get(Pharmacy, pharmacy_id).finess
        organisation = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
        organisation.store_for(kernel, pharmacy_id)  # as the administrator does on the « Certificat » page
        if kernel.is_active(pharmacy_id, "ins"):
            from lgo_sandbox.demo import insi_peer

            server, _insi = insi_peer.start(kernel, pharmacy_id, authority)
            stack.callback(server.stop)
            lines.append(f"INSi (bac à sable) : {server.url}")
        if kernel.is_active(pharmacy_id, "dmp"):
            from lgo_sandbox.dmp import start_dmp_sandbox

            server, _dmp = start_dmp_sandbox(authority, seed=11)
            stack.callback(server.stop)
            kernel.save_plugin_settings(
                pharmacy_id, "dmp", {**kernel.plugin_settings(pharmacy_id, "dmp").model_dump(), "endpoint": server.url}
            )
            lines.append(f"DMP (bac à sable) : {server.url}")
        if kernel.is_active(pharmacy_id, "eordonnance"):
            from lgo_sandbox.eordonnance import start_eordonnance_sandbox

            server, _eord = start_eordonnance_sandbox(authority)
            stack.callback(server.stop)
            kernel.select_provider(pharmacy_id, "eordonnance", "json")
            kernel.save_plugin_settings(pharmacy_id, "eordonnance", {"endpoint": server.url})
            lines.append(f"Ordonnance numérique (bac à sable) : {server.url} — QR de démonstration : {DEMO_QR}")
        yield lines
