"""What a plugin's Flask views need from the web application that mounts them (``lgo-web``), without importing it.

``lgo-web`` keeps the started kernel in ``current_app.extensions["lgo.kernel"]`` and the signed-in operator in the
session (``web/README.md``); these helpers are the one place that knows those keys. Flask is imported when a view
calls them: the kernel itself does not depend on it, a plugin that has pages does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Response

    from lgo.kernel import Kernel

#: Where ``lgo-web`` keeps the started kernel, in ``flask.current_app.extensions``.
KERNEL_EXTENSION = "lgo.kernel"


def web_kernel() -> Kernel:
    """The kernel of the web application serving the current request."""
    from flask import current_app

    kernel: Kernel = current_app.extensions[KERNEL_EXTENSION]
    return kernel


def signed_in() -> tuple[int, int]:
    """The pharmacy and the operator of the current request (a plugin's page is only reached signed in)."""
    from flask import session

    return int(session["pharmacy_id"]), int(session["operator_id"])


def traced_pdf(
    raw_id: str,
    label_fr: str,
    render: Callable[[Kernel, int, int], bytes],
    *,
    plugin: str,
    action: str,
    message_fr: str,
    object_type: str,
    filename: str,
) -> Response:
    """A plugin's PDF of one of its records, shown inline and traced in the audit log (who printed what).

    ``raw_id`` comes from the address and is read within the operator's pharmacy; ``render(kernel, pharmacy_id,
    number)`` builds the PDF, and any :class:`~lgo.errors.LgoError` it raises (another pharmacy's record, nothing to
    print yet) answers 404 without tracing anything. ``filename`` may name ``{number}``.
    """
    from flask import Response, abort, session

    from lgo.domain.scoped import parse_id
    from lgo.errors import LgoError

    kernel, pharmacy_id = web_kernel(), int(session["pharmacy_id"])
    try:
        number = parse_id(raw_id, label_fr)
        pdf = render(kernel, pharmacy_id, number)
    except LgoError:
        abort(404)
    kernel.audit(
        pharmacy_id,
        action,
        message_fr,
        actor=plugin,
        operator_id=session.get("operator_id"),
        object_type=object_type,
        object_id=number,
    )
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename.format(number=number)}"'
    return response
