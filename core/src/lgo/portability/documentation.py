"""``DOCUMENTATION/``: the data dictionary, the file mapping and the settings, generated from the models at each
export, so that what the archive says about itself is always true (PDLGC: readable without proprietary software).

* ``DICTIONNAIRE.HTM`` / ``DICTIONNAIRE.JSON`` — every table and column: type, meaning, what it points at, whether a
  row travels with a patient or in the transverse archive, what is left out and why;
* ``FICHIERS.HTM`` — every file of the archive: name, format, encoding, what it holds, the standard it follows;
* ``PARAMETRES.HTM`` — every module's settings: what each one means, those that are secret (never exported).
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

from lgo.portability import values
from lgo.portability.tables import Catalogue

if TYPE_CHECKING:
    from lgo.kernel import Kernel

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin-bottom:1.5em}"
    "th,td{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}th{background:#eee}"
)


def _page(title: str, body: list[str]) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>'
        + escape(title)
        + f"</title><style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    ).encode("utf-8")


def dictionary(catalogue: Catalogue) -> dict[str, Any]:
    tables = []
    for table in catalogue.tables():
        references = table.all_references()
        columns = []
        for column in table.table.columns:
            entry: dict[str, Any] = {
                "nom": column.name,
                "type": values.type_name_fr(column.type),
                "obligatoire": not column.nullable,
                "description": table.description_fr(column.name),
            }
            if column.name in table.excluded:
                entry["non_exporte"] = table.excluded[column.name]
            if column.name in references:
                entry["reference"] = f"{references[column.name]}.id"
            if column.name in table.transforms and table.transforms[column.name].described_fr:
                entry["transformation"] = table.transforms[column.name].described_fr
            if column.primary_key:
                entry["cle_primaire"] = True
            columns.append(entry)
        tables.append(
            {
                "table": table.name,
                "libelle": table.label_fr,
                "module": catalogue.owners.get(table.name, "kernel"),
                "voyage_avec": "le patient (archive PATNNNNN)"
                if catalogue.is_patient_owned(table.name)
                else "l'officine (archive TRANSVERSE)",
                "fichier_patient": None,
                "references_typees": [list(pair) for pair in table.typed_references],
                "colonnes": columns,
            }
        )
    return {
        "tables": tables,
        "tables_non_exportees": [
            {"table": t.name, "raison": t.reason_fr} for t in sorted(catalogue.excluded.values(), key=lambda t: t.name)
        ],
    }


def dictionary_html(catalogue: Catalogue, patient_files: dict[str, str]) -> bytes:
    data = dictionary(catalogue)
    body = [
        "<p>Chaque table exportée, dans l'ordre où un import l'écrit (une ligne ne référence que des lignes écrites "
        "avant elle). Les lignes d'un patient sont dans son archive <code>PATNNNNN.ZIP</code>, fichier "
        "<code>DONNEES/Tnnn.JSL</code> ; les autres dans <code>TRANSVERSE.ZIP</code>, fichier "
        "<code>TRANSVERSE/TABLES/&lt;table&gt;.jsonl</code>. Une ligne par enregistrement, en JSON (voir "
        "FICHIERS.HTM pour l'encodage des valeurs). Les identifiants (<code>id</code>) sont ceux de la base "
        "d'origine ; un import les conserve dans une base vide et les décale d'un même nombre par table sinon.</p>",
        "<h2>Sommaire</h2><ul>",
    ]
    body += [
        f'<li><a href="#{escape(t["table"])}">{escape(t["table"])}</a> — {escape(t["libelle"])}</li>'
        for t in data["tables"]
    ]
    body.append("</ul>")
    for table in data["tables"]:
        name = table["table"]
        body.append(f'<h2 id="{escape(name)}">{escape(name)} — {escape(table["libelle"])}</h2>')
        body.append(
            f"<p>Module : {escape(table['module'])}. Voyage avec {escape(table['voyage_avec'])}"
            + (
                f" ; dans une archive patient : <code>{escape(patient_files[name])}</code>"
                if name in patient_files
                else ""
            )
            + ".</p>"
        )
        if table["references_typees"]:
            pairs = ", ".join(f"{escape(a)} / {escape(b)}" for a, b in table["references_typees"])
            body.append(f"<p>Références typées (table nommée, puis identifiant) : {pairs}.</p>")
        body.append("<table><tr><th>colonne</th><th>type</th><th>obligatoire</th><th>signification</th></tr>")
        for column in table["colonnes"]:
            notes = []
            if column.get("cle_primaire"):
                notes.append("clé primaire")
            if "reference" in column:
                notes.append(f"référence : {column['reference']}")
            if "transformation" in column:
                notes.append(column["transformation"])
            if "non_exporte" in column:
                notes.append(f"NON EXPORTÉE : {column['non_exporte']}")
            meaning = escape(column["description"]) + "".join(f"<br><em>{escape(n)}</em>" for n in notes)
            body.append(
                f"<tr><td><code>{escape(column['nom'])}</code></td><td>{escape(column['type'])}</td>"
                f"<td>{'oui' if column['obligatoire'] else 'non'}</td><td>{meaning}</td></tr>"
            )
        body.append("</table>")
    body.append("<h2>Tables non exportées</h2><ul>")
    body += [
        f"<li><code>{escape(t['table'])}</code> : {escape(t['raison'])}</li>" for t in data["tables_non_exportees"]
    ]
    body.append("</ul>")
    return _page("Dictionnaire des données", body)


_FILES = [
    ("README.TXT", "texte ASCII 7 bits, CRLF", "Présentation de l'archive (PDLGC).", "PDLGC"),
    (
        "MANIFEST.XML",
        "XML, UTF-8",
        "Contenu de l'export : chaque archive avec sa taille et son empreinte SHA-256, "
        "nombre de lignes par table, versions des modules.",
        "PDLGC pdlgc-manifest (adapté)",
    ),
    (
        "SIGN.XML",
        "XML, UTF-8",
        "Signature XAdES-BES (RSA-SHA256) du manifeste et de TRANSVERSE.ZIP avec le "
        "certificat de l'officine ; les archives patients sont couvertes par leurs empreintes dans MANIFEST.XML.",
        "XAdES (ETSI EN 319 132), PDLGC",
    ),
    ("DOCUMENTATION/", "HTML, JSON, UTF-8", "Cette documentation, non couverte par la signature.", "PDLGC"),
    ("TRANSVERSE.ZIP", "zip", "Données de l'officine hors dossiers patients.", "PDLGC"),
    ("TRANSVERSE/README.TXT", "texte ASCII, CRLF", "Présentation de l'archive transverse.", "PDLGC"),
    (
        "TRANSVERSE/TABLES/<table>.jsonl",
        "JSON lines, UTF-8",
        "Lignes de la table sans patient (voir le dictionnaire).",
        "dictionnaire",
    ),
    (
        "TRANSVERSE/FICHIERS/<table>-<id>-<colonne>.bin",
        "binaire",
        "Valeur binaire d'une ligne transverse.",
        "dictionnaire",
    ),
    (
        "TRANSVERSE/JOURNAL.LOG",
        "syslog RFC 5424, UTF-8, LF",
        "Journal d'audit complet : <PRI>1 horodatage FINESS lgo - "
        "action [lgo@32473 id operateur patient objet acteur] message.",
        "RFC 5424",
    ),
    (
        "TRANSVERSE/PARAMETRES.JSON",
        "JSON, UTF-8",
        "Modules actifs, fournisseurs choisis et paramètres de chaque module, "
        "sans les secrets (version lisible de plugin_activation, provider_selection et plugin_settings).",
        "PARAMETRES.HTM",
    ),
    (
        "TRANSVERSE/ORDONNANCIER.CSV",
        "CSV ; UTF-8, CRLF",
        "L'ordonnancier (registre des délivrances) en une table lisible.",
        "—",
    ),
    ("PATNNNNN.ZIP", "zip (IHE XDM)", "Le dossier d'un patient ; NNNNN de 00001 à 99999.", "IHE ITI XDM, PDLGC"),
    ("PATNNNNN/README.TXT, INDEX.HTM", "ASCII CRLF ; XHTML", "Présentation et sommaire du dossier.", "IHE XDM"),
    (
        "PATNNNNN/CORRESP.CSV",
        "CSV ; UTF-8, CRLF",
        "Table de correspondance : chaque nom 8.3 et ce qu'il contient.",
        "PDLGC (noms ISO 9660 niveau 1)",
    ),
    (
        "PATNNNNN/IHE_XDM/SUBSET01/METADATA.XML",
        "XML ebRIM 3.0",
        "Lot de soumission XDS : une fiche par document.",
        "IHE XDS.b, CI-SIS",
    ),
    (
        "PATNNNNN/IHE_XDM/SUBSET01/DOCnnnnn.XML",
        "CDA R2, XML",
        "Chaque document de santé, tel que produit.",
        "CI-SIS (volet du type de document)",
    ),
    (
        "PATNNNNN/IHE_XDM/SUBSET01/FHIR.JSN",
        "FHIR R4 JSON",
        "Bundle (collection) : Patient (INS si qualifiée, identifiant local), MedicationDispense (ligne "
        "d'ordonnancier, CIP13 en GTIN, lot, ordonnance), Invoice (parts AMO, AMC, patient).",
        "HL7 FHIR R4",
    ),
    (
        "PATNNNNN/PDF/*.PDF",
        "PDF",
        "Copie lisible de chaque document et du dossier (pas de valeur d'intégration).",
        "PDLGC",
    ),
    (
        "PATNNNNN/DONNEES/Tnnn.JSL",
        "JSON lines, UTF-8",
        "Lignes du patient de la table n° nnn (CORRESP.CSV, dictionnaire).",
        "dictionnaire",
    ),
    ("PATNNNNN/DONNEES/Bnnnnnnn.BIN", "binaire", "Valeur binaire d'une ligne (document reçu...).", "dictionnaire"),
]

_VALUES = [
    ("entier, texte, booléen, vide", "tel quel (null pour vide)"),
    ("date et heure", "ISO 8601 en UTC : 2026-03-01T09:30:00+00:00"),
    ("date", "ISO 8601 : 2026-03-01"),
    ("texte parmi une liste", "la valeur enregistrée (validated, pending…)"),
    ("JSON", "la valeur JSON"),
    ("fichier", '{"fichier": "chemin dans l\'archive"} (le document CDA, un fichier .BIN)'),
]


def files_html(catalogue: Catalogue, patient_files: dict[str, str]) -> bytes:
    body = ["<table><tr><th>fichier</th><th>format et encodage</th><th>contenu</th><th>référence</th></tr>"]
    body += [
        f"<tr><td><code>{escape(name)}</code></td><td>{escape(kind)}</td><td>{escape(what)}</td><td>{escape(ref)}</td></tr>"
        for name, kind, what, ref in _FILES
    ]
    body.append(
        "</table><h2>Fichiers des tables dans une archive patient</h2><table><tr><th>fichier</th><th>table</th></tr>"
    )
    body += [f"<tr><td><code>{escape(f)}</code></td><td>{escape(t)}</td></tr>" for t, f in patient_files.items()]
    body.append("</table><h2>Valeurs dans les fichiers JSON lines</h2><table><tr><th>type</th><th>écrit</th></tr>")
    body += [f"<tr><td>{escape(a)}</td><td>{escape(b)}</td></tr>" for a, b in _VALUES]
    body.append("</table>")
    body.append(
        "<h2>Identifiants</h2><p>Patient : INS (matricule et OID) quand l'identité est qualifiée, sinon identifiant "
        "local sous l'OID de l'officine suivi de <code>.1</code> (PI). Lignes d'ordonnancier : <code>.2</code>, "
        "factures : <code>.3</code>, ordonnances : <code>.4</code>. L'OID de l'officine est dérivé de son FINESS "
        "(2.25., UUID nommé « lgo:pharmacy:FINESS »), le même que le sourceId de ses envois DMP et MSSanté.</p>"
    )
    return _page("Fichiers de l'archive", body)


def settings_html(kernel: Kernel) -> bytes:
    from pydantic import SecretStr

    body: list[str] = []
    for info in sorted(kernel.registry.loaded(), key=lambda i: i.name):
        model = kernel.settings_model(info.name)
        if model is None:
            continue
        label = info.manifest.label_fr if info.manifest else info.name
        body.append(f"<h2>{escape(label)} (<code>{escape(info.name)}</code>)</h2>")
        body.append("<table><tr><th>paramètre</th><th>libellé</th><th>aide</th><th>valeur par défaut</th></tr>")
        for name, field in model.model_fields.items():
            secret = field.annotation is SecretStr or "SecretStr" in str(field.annotation)
            default = "secret : jamais exporté" if secret else json.dumps(_default(field), ensure_ascii=False)
            body.append(
                f"<tr><td><code>{escape(name)}</code></td><td>{escape(field.title or '')}</td>"
                f"<td>{escape(field.description or '')}</td><td>{escape(default)}</td></tr>"
            )
        body.append("</table>")
    return _page("Paramètres des modules", body or ["<p>Aucun module n'a de paramètres.</p>"])


def _default(field: Any) -> Any:
    try:
        value = field.get_default(call_default_factory=True)
    except TypeError:
        value = field.get_default()
    try:
        json.dumps(value)
    except TypeError:
        return str(value)
    return value


def documentation_files(kernel: Kernel, catalogue: Catalogue, patient_files: dict[str, str]) -> dict[str, bytes]:
    data = dictionary(catalogue)
    for table in data["tables"]:
        table["fichier_patient"] = patient_files.get(table["table"])
    return {
        "DOCUMENTATION/DICTIONNAIRE.HTM": dictionary_html(catalogue, patient_files),
        "DOCUMENTATION/DICTIONNAIRE.JSON": json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"),
        "DOCUMENTATION/FICHIERS.HTM": files_html(catalogue, patient_files),
        "DOCUMENTATION/PARAMETRES.HTM": settings_html(kernel),
    }
