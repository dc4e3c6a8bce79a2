"""The patient's attestation as a PDF from the counter (mounted by lgo-web under ``/plugins/depistage/``): the TROD
window links it once the result is recorded. Any signed-in operator of the pharmacy may print it (a GET); the test
is looked up in the operator's pharmacy only, and the printing is traced."""

from __future__ import annotations

from flask import Blueprint, Response
from lgo.api import traced_pdf

from lgo_depistage import attestations
from lgo_depistage.records import PLUGIN


def blueprint() -> Blueprint:
    bp = Blueprint("depistage", __name__)

    @bp.route("/attestation/<test_id>")
    def attestation(test_id: str) -> Response:
        return traced_pdf(
            test_id,
            "TROD",
            attestations.attestation_pdf,  # another pharmacy's test, or no result yet: 404
            plugin=PLUGIN,
            action="depistage.attestation_printed",
            message_fr="Attestation de TROD imprimée.",
            object_type="depistage_test",
            filename="attestation-trod-{number}.pdf",
        )

    return bp
