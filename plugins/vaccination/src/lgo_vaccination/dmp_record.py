"""The vaccinations recorded in the patient's DMP (notes de vaccination and historiques from any author), read from
their CDA entries. The DMP is reached through the ``dmp`` plugin's published API, only when it is active."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lgo.api import cda, parse_untrusted, xds_codes

from lgo_vaccination import codes

if TYPE_CHECKING:
    from lgo.api import Kernel


@dataclass(frozen=True)
class DmpVaccination:
    date: str
    vaccine: str
    lot: str
    source: str
    #: The targeted diseases (from the ATC translation of the vaccine's code), « — » when the document says nothing.
    disease: str = "—"
    #: The vaccinator named as the administration's performer.
    vaccinator: str = "—"


def vaccinations_in(content: bytes, source: str) -> list[DmpVaccination]:
    """The administered vaccines of a CDA document (entries ``substanceAdministration`` not negated)."""
    ns = {"h": cda.NS}
    root = parse_untrusted(content, what="note de vaccination du DMP")
    result = []
    for administration in root.iterfind(".//h:substanceAdministration", ns):
        if administration.get("negationInd") == "true":
            continue
        material = administration.find("h:consumable/h:manufacturedProduct/h:manufacturedMaterial", ns)
        if material is None:
            continue
        when = administration.find("h:effectiveTime", ns)
        value = when.get("value") if when is not None else None
        if value is None and when is not None:
            low = when.find("h:low", ns)
            value = low.get("value") if low is not None else None
        code = material.find("h:code", ns)
        name = (code.get("displayName", "") if code is not None else "") or (
            material.findtext("h:name", "", ns) or ""
        ).strip()
        lot = (material.findtext("h:lotNumberText", "", ns) or "").strip()
        date = f"{value[:4]}-{value[4:6]}-{value[6:8]}" if value and len(value) >= 8 else (value or "")
        result.append(
            DmpVaccination(
                date=date,
                vaccine=" ".join(name.split()),
                lot=lot,
                source=source,
                disease=_disease(material, ns),
                vaccinator=_performer(administration, ns),
            )
        )
    return result


def _disease(material: Any, ns: dict[str, str]) -> str:
    """The diseases of the ATC translation (its display name, else what the ATC code says), else « — »."""
    for translation in material.iterfind("h:code/h:translation", ns):
        if translation.get("codeSystem") == codes.OID_ATC:
            found = codes.profile(translation.get("code"))
            return " ".join((translation.get("displayName") or (found.disease_fr if found else "—")).split())
    return "—"


def _performer(administration: Any, ns: dict[str, str]) -> str:
    name = administration.find("h:performer/h:assignedEntity/h:assignedPerson/h:name", ns)
    if name is None:
        return "—"
    parts = [" ".join((name.findtext(tag, "", ns) or "").split()) for tag in ("h:given", "h:family")]
    return " ".join(p for p in parts if p) or "—"


def dmp_vaccinations(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> list[DmpVaccination]:
    """The patient's vaccinations found in the DMP, newest first, each once (same date, vaccine and lot)."""
    from lgo_dmp import api as dmp

    documents = dmp.documents_of_types(
        kernel,
        pharmacy_id,
        operator_id,
        patient_id,
        (xds_codes.NOTE_DE_VACCINATION, xds_codes.HISTORIQUE_VACCINATIONS),
        "carnet de vaccination",
    )
    found: dict[tuple[str, str, str], DmpVaccination] = {}
    for entry, content in documents:
        for vaccination in vaccinations_in(content, entry.title):
            found.setdefault((vaccination.date, vaccination.vaccine, vaccination.lot), vaccination)
    return sorted(found.values(), key=lambda v: v.date, reverse=True)
