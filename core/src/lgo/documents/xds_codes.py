"""The project's own small tables of the XDS codes an officine uses when it shares a document (DMP, MSSanté XDM),
chosen from the CI-SIS value sets (decision 0400).

These are not copies of the official files: only the few codes an officine produces, with their display names.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The XDS formatCode of a CDA level 1 document carrying a PDF (IHE XDS-SD). Here rather than in
#: :mod:`lgo.documents.cda`: these tables are read by plugins' settings, which ``lgo --help`` loads without lxml.
FORMAT_CODE_PDF = "urn:ihe:iti:xds-sd:pdf:2008"
FORMAT_CODE_PDF_SCHEME = "1.3.6.1.4.1.19376.1.2.3"
OID_LOINC = "2.16.840.1.113883.6.1"
OID_CLASS = "1.2.250.1.213.1.1.4.1"
OID_FORMAT_CISIS = "1.2.250.1.213.1.1.4.2.282"
OID_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
OID_MASKING = "1.2.250.1.213.1.1.4.13"
OID_FACILITY = "1.2.250.1.71.4.2.4"
OID_PRACTICE = "1.2.250.1.213.1.1.4.9"
OID_PROFESSION = "1.2.250.1.213.1.1.4.5"
OID_IDNAT_PS = "1.2.250.1.71.4.2.1"
OID_IDNAT_STRUCT = "1.2.250.1.71.4.2.2"
#: Known OIDs of the matricule INS (NIR, NIA, and their test counterparts).
INS_OIDS = {
    "1.2.250.1.213.1.4.8": "INS-NIR",
    "1.2.250.1.213.1.4.9": "INS-NIA",
    "1.2.250.1.213.1.4.10": "INS-NIR de test",
    "1.2.250.1.213.1.4.11": "INS-NIA de test",
}


@dataclass(frozen=True)
class DocumentKind:
    type_code: str
    type_display: str
    class_code: str
    class_display: str


NOTE_DE_VACCINATION = "87273-9"
CR_ENTRETIEN = "78601-2"
BILAN_MEDICAMENTEUX = "56445-0"
HISTORIQUE_VACCINATIONS = "11369-6"
#: Attestation de dépistage (CI-SIS BIO-TROD 2024.01), dispensation (eDISP-MED 2024.01), plan personnalisé de
#: prévention (decisions 1202 and 1300).
TROD = "96173-0"
DISPENSATION = "60593-1"
PLAN_PREVENTION = "83869-8"

DOCUMENT_KINDS: dict[str, DocumentKind] = {
    NOTE_DE_VACCINATION: DocumentKind(NOTE_DE_VACCINATION, "Note de vaccination", "45", "Traitement administré"),
    CR_ENTRETIEN: DocumentKind(CR_ENTRETIEN, "CR d'entretien pharmaceutique", "10", "Compte rendu"),
    BILAN_MEDICAMENTEUX: DocumentKind(BILAN_MEDICAMENTEUX, "Bilan médicamenteux (Officine)", "11", "Synthèse"),
    HISTORIQUE_VACCINATIONS: DocumentKind(HISTORIQUE_VACCINATIONS, "Historique des vaccinations", "11", "Synthèse"),
    TROD: DocumentKind(TROD, "Test rapide d'orientation diagnostique", "10", "Compte rendu"),
    DISPENSATION: DocumentKind(DISPENSATION, "Dispensation médicamenteuse", "43", "Dispensation"),
    PLAN_PREVENTION: DocumentKind(
        PLAN_PREVENTION, "Plan personnalisé de prévention", "44", "Plan de soins, protocole de soins"
    ),
}

#: Types an officine feeds automatically by default.
AUTO_FED_DEFAULT = (NOTE_DE_VACCINATION, CR_ENTRETIEN, BILAN_MEDICAMENTEUX, TROD, DISPENSATION, PLAN_PREVENTION)

#: formatCode of structured (level 3) documents by type; level 1 documents use the XDS-SD PDF format.
STRUCTURED_FORMATS: dict[str, tuple[str, str, str]] = {
    NOTE_DE_VACCINATION: ("urn:asip:ci-sis:vac-note:2021", "Note de vaccination", OID_FORMAT_CISIS),
    HISTORIQUE_VACCINATIONS: ("urn:asip:ci-sis:vac:2019", "Historique des vaccinations", OID_FORMAT_CISIS),
    TROD: ("urn:ans:ci-sis:trod:2024", "Test rapide d'orientation diagnostique", OID_FORMAT_CISIS),
    DISPENSATION: ("urn:ihe:pharm:dis:2010", "Dispensation médicamenteuse", FORMAT_CODE_PDF_SCHEME),
}
#: formatCode of level 1 (PDF body) documents whose type has its own format (decision 1300: the PPP); other level
#: 1 documents use the XDS-SD PDF format.
LEVEL1_FORMATS: dict[str, tuple[str, str, str]] = {
    PLAN_PREVENTION: ("urn:asip:ci-sis:ppp:2023", "Plan personnalisé de prévention", OID_FORMAT_CISIS),
}
#: A document whose MIME type says everything needed to read it (IHE ITI TF-3 formatCode): the FHIR JSON of an export.
MIME_SUFFICIENT_FORMAT = (
    "urn:ihe:iti:xds:2017:mimeTypeSufficient",
    "Format désigné par le type MIME",
    "1.3.6.1.4.1.19376.1.2.3",
)
PDF_FORMAT = (FORMAT_CODE_PDF, "Document à corps non structuré en Pdf/A-1", FORMAT_CODE_PDF_SCHEME)
KNOWN_FORMATS = {
    PDF_FORMAT[0]: PDF_FORMAT,
    **{v[0]: v for v in STRUCTURED_FORMATS.values()},
    **{v[0]: v for v in LEVEL1_FORMATS.values()},
}

CONFIDENTIALITY = {"N": "Normal", "R": "Restreint", "V": "Très restreint"}
MASKING = {
    "INVISIBLE_PATIENT": "Non visible par le patient",
    "INVISIBLE_REPRESENTANTS_LEGAUX": "Non visible par les représentants légaux du patient",
    "MASQUE_PS": "Masqué aux professionnels de santé",
}
#: The DMP subset of the healthcareFacilityTypeCode (only what an officine uses) and practiceSettingCode.
FACILITY_TYPES = {"SA33": "Pharmacie d'officine"}
PRACTICE_SETTINGS = {"AMBULATOIRE": "Ambulatoire", "DEPISTAGE": "Dépistage"}
#: Submission set contentTypeCode (JDV_J59): an officine's activity is an ambulatory consultation.
CONTENT_TYPE = ("CONSULT", "Consultation externe", "1.2.250.1.213.1.1.4.2.2")


def kind(type_code: str) -> DocumentKind:
    found = DOCUMENT_KINDS.get(type_code)
    if found is None:
        from lgo.errors import ValidationError

        raise ValidationError(
            f"Type de document {type_code} non pris en charge pour le partage (DMP, MSSanté).",
            detail=f"type_code {type_code}",
        )
    return found
