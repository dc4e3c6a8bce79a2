"""The patient's plan personnalisé de prévention as a PDF from the counter (mounted by lgo-web under
``/plugins/prevention/``): the bilan window links it once the plan is written. Any signed-in operator of the pharmacy
may print it (a GET); the bilan is looked up in the operator's pharmacy only, and the printing is traced."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, session
from lgo.api import Kernel, LgoError, parse_id

from lgo_prevention import plan as ppp
from lgo_prevention.service import PLUGIN


def _kernel() -> Kernel:
    kernel: Kernel = current_app.extensions["lgo.kernel"]
    return kernel


def blueprint() -> Blueprint:
    bp = Blueprint("prevention", __name__)

    @bp.route("/plan/<bilan_id>")
    def plan(bilan_id: str) -> Response:
        kernel, pharmacy_id = _kernel(), int(session["pharmacy_id"])
        try:
            number = parse_id(bilan_id, "bilan prévention")
            pdf = ppp.plan_pdf(kernel, pharmacy_id, number)
        except LgoError:  # another pharmacy's bilan, or no plan yet: nothing to print
            abort(404)
        kernel.audit(
            pharmacy_id,
            "prevention.plan_printed",
            "Plan personnalisé de prévention imprimé.",
            actor=PLUGIN,
            operator_id=session.get("operator_id"),
            object_type="prevention_bilan",
            object_id=number,
        )
        response = Response(pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="plan-prevention-{number}.pdf"'
        return response

    return bp
