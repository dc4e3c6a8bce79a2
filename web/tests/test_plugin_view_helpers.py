"""What ``lgo.api`` gives a plugin's Flask views: the kernel and the signed-in operator kept by lgo-web, and a record's
PDF shown inline with its printing traced (404 for another pharmacy's record or nothing to print, untraced)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from lgo.api import NotFound, signed_in, traced_pdf, web_kernel
from lgo.demo_data import PASSWORD, Seeded
from lgo.domain.audit import AuditEntry
from lgo.kernel import Kernel
from sqlalchemy import select
from web_fakes import https_client, sign_in


def _printed(kernel: Kernel, pharmacy_id: int, number: int) -> bytes:
    if number != 7:
        raise NotFound("Rappel introuvable.")
    return b"%PDF-1.4 rappel 7"


def _blueprint() -> Blueprint:
    bp = Blueprint("rappels", __name__)

    @bp.route("/qui")
    def who() -> str:
        pharmacy_id, operator_id = signed_in()
        return f"{web_kernel().is_active(pharmacy_id, 'rappels')} {pharmacy_id} {operator_id}"

    @bp.route("/rappel/<number>")
    def reminder(number: str) -> Response:
        return traced_pdf(
            number,
            "rappel",
            _printed,
            plugin="rappels",
            action="rappels.printed",
            message_fr="Rappel imprimé.",
            object_type="rappels_reminder",
            filename="rappel-{number}.pdf",
        )

    return bp


def test_a_plugin_view_reads_the_kernel_and_the_operator_and_traces_a_printed_pdf(
    web_kernel: Kernel, web_seeded: Seeded
) -> None:
    from lgo_web import create_app

    app = create_app(web_kernel)
    app.register_blueprint(_blueprint(), url_prefix="/essai")
    client: Any = https_client(app)
    operator_id = web_seeded.operators["titulaire"]
    sign_in(client, "titulaire", PASSWORD)
    assert client.get("/essai/qui").get_data(as_text=True) == f"False {web_seeded.pharmacy_id} {operator_id}"

    shown = client.get("/essai/rappel/7")
    assert shown.status_code == 200 and shown.mimetype == "application/pdf" and shown.data.startswith(b"%PDF")
    assert shown.headers["Content-Disposition"] == 'inline; filename="rappel-7.pdf"'
    for refused in ("8", "abc", "9" * 40):
        assert client.get(f"/essai/rappel/{refused}").status_code == 404
    with web_kernel.transaction() as db:
        traced = db.scalars(select(AuditEntry).where(AuditEntry.action == "rappels.printed")).all()
        assert [(e.actor, e.operator_id, e.object_type, e.object_id, e.message_fr) for e in traced] == [
            ("rappels", operator_id, "rappels_reminder", "7", "Rappel imprimé.")
        ]
