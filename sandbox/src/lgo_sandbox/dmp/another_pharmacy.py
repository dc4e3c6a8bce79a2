"""Another pharmacy of the test authority depositing in the sandbox DMP through the real XDS.b channel (its own
organisation certificate, its own signed VIHF, its own FINESS): what the counter must show as « new » in a
patient's DMP. For tests and the demo only.

Its documents: a note de vaccination (CI-SIS VAC-NOTE, level 3, built by the ``vaccination`` plugin's builder) and,
for the hostile-input tests, the same note whose narrative carries HTML, script, event attributes and a
``javascript:`` link — what a careless or malicious producer could deposit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lgo.api import KeySigner, SharedIdentity, cda, client_tls_context, identifiers
from lxml import etree

if TYPE_CHECKING:
    from lgo_sandbox.pki import TestAuthority

#: A fictional pharmacy and its pharmacist (check digits valid, in the test ranges).
FINESS = identifiers.with_luhn("99000009")
RPPS = identifiers.with_luhn("9999900009")
NAME = "Pharmacie du Marché (autre officine, démo)"
PHARMACIST = ("GARNIER-DEMO", "Hugo")
#: What a hostile producer might put in a CDA's narrative: none of it may run in the pharmacist's browser.
HOSTILE_NARRATIVE = (
    '<paragraph onclick="window.__pwned=1">Texte avec <b>gras</b> et '
    "<script>window.__pwned=2</script>"
    '<linkHtml href="javascript:window.__pwned=3">lien piégé</linkHtml>'
    '<renderMultiMedia referencedObject="x"/>'
    "&lt;img src=x onerror=window.__pwned=4&gt;</paragraph>"
)


@dataclass(frozen=True)
class Deposited:
    unique_id: str
    title: str


def note_de_vaccination(
    identity: SharedIdentity,
    *,
    title: str = "Note de vaccination (autre officine)",
    lot: str = "AUTRE-LOT-42",
    when: datetime | None = None,
    hostile: bool = False,
) -> bytes:
    """A VAC-NOTE written by the other pharmacy's pharmacist for ``identity`` (a COVID-19 vaccination); needs the
    vaccination plugin (its CDA builder)."""
    from lgo_vaccination.cda import Vaccination, build

    moment = when or datetime.now(UTC) - timedelta(days=20)
    pharmacist = _pharmacist()
    header = _header(identity, "87273-9", "Note de vaccination", title, moment)
    content = build(
        header,
        Vaccination(
            administered_at=moment,
            act_type="IMMUNIZ",
            vaccine_label="VACCIN COVID-19 ARNm DÉMO",
            cis="69000103",
            atc="J07BN01",
            cip13=None,
            lot_number=lot,
            route_code="20035000",
            site_code="16217701000119102",
            vaccinator=pharmacist,
        ),
    )
    return _with_hostile_narrative(content) if hostile else content


def narrative_note(identity: SharedIdentity, *, title: str, hostile: bool = False) -> bytes:
    """A note de vaccination of the other pharmacy whose section holds only its readable part (no coded entry),
    built with the kernel alone: enough for the DMP's metadata and for the viewer (``hostile``: script, handlers and
    a ``javascript:`` link in the narrative)."""
    moment = datetime.now(UTC) - timedelta(days=20)
    header = _header(identity, "87273-9", "Note de vaccination", title, moment)
    section = etree.Element("{urn:hl7-org:v3}section")  # takes the document's default namespace once appended
    cda.el(section, "title", "Vaccination")
    cda.el(section, "text", "Vaccination contre la COVID-19 réalisée à l'autre officine.")
    content = cda.wrap_structured_body(header, [section])
    return _with_hostile_narrative(content) if hostile else content


def _pharmacist() -> cda.CdaPerson:
    return cda.CdaPerson(RPPS, PHARMACIST[0], PHARMACIST[1], "G15_21/A", "Pharmacien titulaire d'officine")


def _header(identity: SharedIdentity, type_code: str, type_display: str, title: str, moment: datetime) -> cda.CdaHeader:
    pharmacist = _pharmacist()
    return cda.CdaHeader(
        unique_id=f"2.25.{uuid.uuid4().int}",
        set_id=f"2.25.{uuid.uuid4().int}",
        version=1,
        type_code=type_code,
        type_display=type_display,
        title=title,
        patient=identity,
        author=pharmacist,
        organisation=cda.CdaOrganisation(FINESS, NAME, "3 rue du Marché", "99200", "Autreville"),
        effective_time=moment,
        legal_authenticator=pharmacist,
        service_start=moment,
    )


def _with_hostile_narrative(content: bytes) -> bytes:
    root = etree.fromstring(content)
    text = root.find(".//{urn:hl7-org:v3}section/{urn:hl7-org:v3}text")
    assert text is not None
    hostile = etree.fromstring(f'<text xmlns="urn:hl7-org:v3">{HOSTILE_NARRATIVE}</text>')
    for child in hostile:
        text.append(child)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def deposit(authority: TestAuthority, endpoint: str, identity: SharedIdentity, content: bytes) -> Deposited:
    """The other pharmacy sends ``content`` for ``identity`` to the DMP at ``endpoint`` (ITI-41, signed)."""
    from lgo_dmp.client import DmpClient
    from lgo_dmp.vihf import VihfContext, build_vihf

    organisation = authority.organisation(NAME.upper(), finess=FINESS)
    credential = organisation.client()
    signer = KeySigner.from_credential(credential)

    def vihf(patient_id: str) -> Any:
        context = VihfContext(
            structure_id=identifiers.idnat_structure(FINESS),
            rpps=RPPS,
            family=PHARMACIST[0],
            given=PHARMACIST[1],
            patient_id=patient_id,
        )
        return build_vihf(signer, context)

    with DmpClient(
        endpoint,
        ssl_context=client_tls_context(credential, str(organisation.ca_path)),
        vihf=vihf,
        source_id="1.2.250.1.999.1.9",
        signer=signer,
    ) as client:
        client.provide_and_register(content)
    root = etree.fromstring(content)
    found = root.find("{urn:hl7-org:v3}id")
    unique_id = found.get("root", "") if found is not None else ""
    return Deposited(unique_id, root.findtext("{urn:hl7-org:v3}title", ""))
