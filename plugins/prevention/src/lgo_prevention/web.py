"""The patient's plan personnalisé de prévention as a PDF from the counter (mounted by lgo-web under
``/plugins/prevention/``): the bilan window links it once the plan is written. Any signed-in operator of the pharmacy
may print it (a GET); the bilan is looked up in the operator's pharmacy only, and the printing is traced."""

from __future__ import annotations

from flask import Blueprint, Response
from lgo.api import traced_pdf

from lgo_prevention import plan as ppp
from lgo_prevention.service import PLUGIN


def blueprint() -> Blueprint:
    bp = Blueprint("prevention", __name__)

    @bp.route("/plan/<bilan_id>")
    def plan(bilan_id: str) -> Response:
        return traced_pdf(
            bilan_id,
            "bilan prévention",
            ppp.plan_pdf,  # another pharmacy's bilan, or no plan yet: 404
            plugin=PLUGIN,
            action="prevention.plan_printed",
            message_fr="Plan personnalisé de prévention imprimé.",
            object_type="prevention_bilan",
            filename="plan-prevention-{number}.pdf",
        )

    return bp
