"""The INSi sandbox as the demonstration uses it: started for the demonstration's software authorisation, with the
pharmacy's INSi certificate stored and the ``ins`` plugin's settings pointing at it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lgo.kernel import Kernel

    from lgo_sandbox.insi import InsiSandbox
    from lgo_sandbox.pki import TestAuthority
    from lgo_sandbox.tls import BackgroundServer

#: The software authorisation number (IDAM) the sandbox knows.
DEMO_IDAM = "LGO-LIBRE-TEST"


def start(kernel: Kernel, pharmacy_id: int, authority: TestAuthority) -> tuple[BackgroundServer, InsiSandbox]:
    """The running sandbox and its service (to make it fail on purpose); the caller stops the server."""
    from lgo_sandbox.insi import start_insi_sandbox

    server, sandbox = start_insi_sandbox(authority, known_idams=frozenset({DEMO_IDAM}))
    try:
        authority.organisation("INSI-AUTO").store_for(kernel, pharmacy_id, kind="insi")
        settings = kernel.plugin_settings(pharmacy_id, "ins").model_dump()
        changes = {"insi_endpoint": server.url, "authorisation_number": DEMO_IDAM, "timeout_seconds": 3}
        kernel.save_plugin_settings(pharmacy_id, "ins", {**settings, **changes})
    except BaseException:
        server.stop()
        raise
    return server, sandbox
