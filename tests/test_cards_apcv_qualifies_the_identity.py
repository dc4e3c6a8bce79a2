"""With the real ins plugin: an identity read through the Appli carte Vitale (ApCV sandbox, mutual TLS) is recorded
as qualifiée without asking for an identity document."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lgo_cards.plugin
import lgo_ins.plugin
from lgo.demo_data import Seeded
from lgo.domain.patients import create_patient
from lgo.kernel import Kernel
from lgo_cards import apcv
from lgo_ins import api
from lgo_ins.model import Status
from lgo_sandbox.apcv import start_apcv_sandbox
from lgo_sandbox.pki import TestAuthority


def test_the_app_identity_is_qualified_without_identity_document(
    tmp_path: Path,
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
) -> None:
    authority = TestAuthority(tmp_path / "pki")
    server, sandbox = start_apcv_sandbox(authority)
    try:
        organisation = authority.organisation("PHARMACIE DU CENTRE")
        endpoint = apcv.Endpoint(server.url, organisation.client(), str(authority.ca_path))
        kernel = lgo_make_kernel(lgo_ins.plugin, lgo_cards.plugin)
        pharmacy, titulaire = lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"]
        for name in ("ins", "cards"):
            kernel.enable(pharmacy, name)
        with kernel.transaction() as session:
            patient = create_patient(
                session, pharmacy, birth_name="TCHITCHI", first_names="CATARINA BELLA", sex="F", birth_date="1936-06-21"
            ).id

        data = sandbox.present("catarina")
        identity = apcv.identify(endpoint, f" {data}\n")
        assert identity.matricule == "236066322083656" and identity.first_names == ("CATARINA", "BELLA")
        assert apcv.qualify(kernel, pharmacy, patient, titulaire, identity) == Status.QUALIFIEE
        assert kernel.shareable_identity(pharmacy, patient).matricule == "236066322083656"
        assert api.qualification_actions(kernel, pharmacy, patient) == []  # no identity document to ask for

    finally:
        server.stop()
