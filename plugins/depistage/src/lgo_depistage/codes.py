"""The codes of the BIO-TROD attestation (CI-SIS BIO-TROD 2024.01, from the kit's examples and value sets) and of
the acts billed (decision 1200). The official value sets stay in ``../shared``; the ANS kit checks the documents
in the tests."""

from __future__ import annotations

from dataclasses import dataclass

from lgo.api import ActDefinition, ActTariff, LabelledEnum

OID_LOINC = "2.16.840.1.113883.6.1"
OID_CIM10 = "2.16.840.1.113883.6.3"
OID_SNOMED = "2.16.840.1.113883.6.96"
#: GS1 as the issuing agency of a UDI (participantRole/id/@root, accepted by the BIO-TROD schematron).
OID_GS1_UDI = "2.51.1.1"
OID_TA_ASIP = "1.2.250.1.213.1.1.4.322"

DOCUMENT_TYPE = ("96173-0", "Test rapide d'orientation diagnostique")
TEMPLATE_BIO_TROD = ("1.2.250.1.213.1.1.1.59", "2024.01")
TEMPLATE_PCC_MEDICAL_DOCUMENT = "1.3.6.1.4.1.19376.1.5.3.1.1.1"
#: Consent to the test (TA_ASIP GEN-366), as in the kit's examples.
CONSENT = ("GEN-366", "Le patient (ou son représentant légal) a donné son consentement pour la réalisation du test.")


class Result(LabelledEnum):
    """JDV_ResultatDepistage_CISIS (1.2.250.1.213.1.1.5.761), SNOMED CT."""

    POSITIVE = "10828004", "positif"
    NEGATIVE = "260385009", "négatif"
    INDETERMINATE = "373068000", "indéterminé(e)"
    UNSATISFACTORY = "125154007", "échantillon insatisfaisant pour l'évaluation"

    @classmethod
    def parse(cls, value: str) -> Result:
        from lgo.api import ValidationError

        text = str(value).strip().lower()
        for member in cls:
            if text in (member.value, member.name.lower(), member.label_fr):
                return member
        aliases = {
            "+": cls.POSITIVE,
            "-": cls.NEGATIVE,
            "negatif": cls.NEGATIVE,
            "indéterminé": cls.INDETERMINATE,
            "indetermine": cls.INDETERMINATE,
            "insatisfaisant": cls.UNSATISFACTORY,
        }
        if text in aliases:
            return aliases[text]
        raise ValidationError(
            f"Résultat inconnu : « {value} » (positif, négatif, indéterminé ou échantillon insatisfaisant)."
        )


@dataclass(frozen=True)
class Observation:
    """One result the test gives (a LOINC code of the kit's value-set rules)."""

    code: str
    display: str
    label_fr: str
    #: Short name typed at the command line (``streptocoque=positif``).
    key: str


@dataclass(frozen=True)
class TrodKind:
    code: str
    label_fr: str
    #: The end of the document's title, « Test rapide d'orientation diagnostique : … ».
    title_fr: str
    #: Pathologies screened: documentationOf/serviceEvent/code (CIM-10).
    service_events: tuple[tuple[str, str], ...]
    #: FR-CR-BIO-Chapitre section code (LOINC) and the entry's act code.
    section: tuple[str, str]
    act: tuple[str, str]
    observations: tuple[Observation, ...]
    #: The act billed (None: the plugin bills nothing for this test, decision 1200).
    act_code: str | None = None
    #: Whether a positive result may lead to an antibiotic dispensed under the protocol.
    antibiotic: bool = False


MICROBIOLOGY = ("18725-2", "Microbiologie")
STREP_A = Observation(
    "78012-2",
    "Streptococcus pyogenes Ag [Présence/Seuil] Gorge ; Qualitatif ; Immunoanalyse rapide",
    "Dépistage angine (streptocoque du groupe A)",
    "streptocoque",
)
LEUCOCYTES = Observation(
    "5799-2",
    "Leucocyte estérase [Présence/Seuil] Urine ; Qualitatif ; Bandelette réactive",
    "Leucocytes urinaires",
    "leucocytes",
)
NITRITES = Observation(
    "5802-4", "Nitrites [Présence/Seuil] Urine ; Qualitatif ; Bandelette réactive", "Nitrites urinaires", "nitrites"
)
SARS_COV_2 = Observation(
    "94558-4",
    "Coronavirus SARS-CoV-2 Ag [Présence/Seuil] Respiratoire ; Qualitatif ; Immunoanalyse rapide",
    "Dépistage SARS-CoV-2",
    "sars_cov_2",
)
FLU_A = Observation(
    "80382-5",
    "Influenza virus A Ag [Présence/Seuil] Voies respiratoires supérieures ; Qualitatif ; Immunoanalyse rapide",
    "Dépistage grippe A",
    "grippe_a",
)
FLU_B = Observation(
    "80383-3",
    "Influenza virus B Ag [Présence/Seuil] Voies respiratoires supérieures ; Qualitatif ; Immunoanalyse rapide",
    "Dépistage grippe B",
    "grippe_b",
)
COVID_EVENT = ("U07.1", "COVID-19")
FLU_EVENT = ("J10", "Grippe, à virus grippal saisonnier identifié")

KINDS: dict[str, TrodKind] = {
    kind.code: kind
    for kind in (
        TrodKind(
            "angine",
            "TROD angine (streptocoque du groupe A)",
            "TROD Angine",
            (("J02.0", "Pharyngite à streptocoques"),),
            MICROBIOLOGY,
            ("92894-5", "Sérologie bactérienne"),
            (STREP_A,),
            act_code="TRD",
            antibiotic=True,
        ),
        TrodKind(
            "cystite",
            "TROD cystite (bandelette urinaire)",
            "TROD Cystite",
            (("N30", "Cystite"),),
            ("18719-5", "Biochimie"),
            ("18729-4", "Examens urinaires - cristallurie"),
            (LEUCOCYTES, NITRITES),
            act_code="PEE",
            antibiotic=True,
        ),
        TrodKind(
            "grippe",
            "TROD grippe A et B",
            "TROD Grippe A / Grippe B",
            (FLU_EVENT,),
            MICROBIOLOGY,
            ("92893-7", "Sérologie virale"),
            (FLU_A, FLU_B),
        ),
        TrodKind(
            "covid",
            "TROD COVID-19 (antigénique)",
            "TROD Covid-19",
            (COVID_EVENT,),
            MICROBIOLOGY,
            ("92893-7", "Sérologie virale"),
            (SARS_COV_2,),
        ),
        TrodKind(
            "covid_grippe",
            "TROD combiné COVID-19, grippe A et grippe B",
            "TROD Covid 19 / Grippe A / Grippe B",
            (COVID_EVENT, FLU_EVENT),
            MICROBIOLOGY,
            ("92893-7", "Sérologie virale"),
            (SARS_COV_2, FLU_A, FLU_B),
        ),
    )
}


def kind(code: str) -> TrodKind:
    from lgo.api import ValidationError

    found = KINDS.get(str(code).strip().lower())
    if found is None:
        raise ValidationError(f"Type de TROD inconnu : « {code} » (types possibles : {', '.join(KINDS)}).")
    return found


#: Tariff of the act when the antibiotic is dispensed without a conditional prescription.
WITH_ANTIBIOTIC = "antibiotique"

#: The acts (decision 1200): 10 € when negative or done on an ordonnance conditionnelle, 15 € when the antibiotic
#: is dispensed; DROM fees 10,50 € and 15,70 €; reimbursed at 70 %.
ACTS = tuple(
    ActDefinition(
        code,
        f"TROD {disease} (négatif ou ordonnance conditionnelle)",
        1000,
        reimbursement_rate=70,
        fee_cents_drom=1050,
        tariffs=(
            ActTariff(WITH_ANTIBIOTIC, f"TROD {disease} et délivrance d'un antibiotique sans ordonnance", 1500, 1570),
        ),
    )
    for code, disease in (("TRD", "angine"), ("PEE", "cystite"))
)
