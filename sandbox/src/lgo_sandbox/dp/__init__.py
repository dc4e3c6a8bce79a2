"""The Dossier Pharmaceutique sandbox (see :mod:`lgo_sandbox.dp.server`), served over HTTPS with client certificates.

.. code-block:: python

    server, dp = start_dp_sandbox(authority)        # a TestAuthority: the server certificate and the trusted root
    dp.publish("rappel", "Rappel du lot X", "…", products=[{"cip13": "…", "lots": ["X"]}])
    dp.down = True                                   # faults: down, delay_seconds, lose_answers
    server.stop()
"""

from __future__ import annotations

from typing import Any

from lgo_sandbox.dp.server import DpSandbox, File, Line

__all__ = ["DpSandbox", "File", "Line", "start_dp_sandbox"]


def start_dp_sandbox(authority: Any, **options: Any) -> tuple[Any, DpSandbox]:
    from lgo_sandbox.pki import server_context
    from lgo_sandbox.tls import BackgroundServer

    sandbox = DpSandbox(**options)
    server = BackgroundServer(sandbox, ssl_context=server_context(authority.server("dp")))
    server.start()
    return server, sandbox
