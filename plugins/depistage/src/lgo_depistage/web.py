"""The patient's attestation as a PDF from the counter (mounted by lgo-web under ``/plugins/depistage/``): the TROD
window links it once the result is recorded. Any signed-in operator of the pharmacy may print it (a GET); the test
is looked up in the operator's pharmacy only, and the printing is traced."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, session
from lgo.api import Kernel, LgoError

from lgo_depistage import attestations
from lgo_depistage.records import PLUGIN


def _kernel() -> Kernel:
    kernel: Kernel = current_app.extensions["lgo.kernel"]
    return kernel


def blueprint() -> Blueprint:
    bp = Blueprint("depistage", __name__)

    @bp.route("/attestation/<test_id>")
    def attestation(test_id: str) -> Response:
        from lgo.api import parse_id

        kernel, pharmacy_id = _kernel(), int(session["pharmacy_id"])
        try:
            number = parse_id(test_id, "TROD")
            pdf = attestations.attestation_pdf(kernel, pharmacy_id, number)
        except LgoError:  # another pharmacy's test, or no result yet: nothing to print
            abort(404)
        kernel.audit(
            pharmacy_id,
            "depistage.attestation_printed",
            "Attestation de TROD imprimée.",
            actor=PLUGIN,
            operator_id=session.get("operator_id"),
            object_type="depistage_test",
            object_id=number,
        )
        response = Response(pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="attestation-trod-{number}.pdf"'
        return response

    return bp
