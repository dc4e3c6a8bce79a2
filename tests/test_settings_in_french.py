"""Every settings page speaks French: each field of each installed module's settings model has a French label and a
one-line help, nothing is typed as JSON, and no plugin asks for the pharmacy's certificate as a file."""

from __future__ import annotations

import re
from typing import Any

from lgo.plugins.discovery import discover
from lgo_web.settings_forms import field_specs
from pydantic import BaseModel, Field

#: Words of an English label; a French label does not use them (« Adresse du service », not « Service endpoint »).
ENGLISH = {
    "address",
    "and",
    "auto",
    "certificate",
    "default",
    "enabled",
    "endpoint",
    "feed",
    "for",
    "key",
    "name",
    "password",
    "path",
    "server",
    "settings",
    "the",
    "timeout",
    "with",
}
#: Settings that would ask for the pharmacy's certificate or its key as a file on the server.
CERTIFICATE_FILES = re.compile(r"^(certificate|cert|key|pkcs12|p12)(_path|_file)?$")


def problems(plugin: str, model: type[BaseModel]) -> list[str]:
    found = []
    for spec in field_specs(model):
        field = model.model_fields[spec.name]
        where = f"{plugin}.{spec.name}"
        if not field.title:
            found.append(f"{where}: no French label (title)")
        if not (field.description or "").strip():
            found.append(f"{where}: no one-line help (description)")
        outside_parentheses = re.sub(r"\([^)]*\)", "", field.title or "")
        english = ENGLISH & set(re.findall(r"[a-z]+", outside_parentheses.lower()))
        if english:
            found.append(f"{where}: English words in the label {field.title!r}: {sorted(english)}")
        if spec.kind == "json":
            found.append(f"{where}: edited as JSON")
        if CERTIFICATE_FILES.match(spec.name):
            found.append(f"{where}: the certificate as a file (use the « Certificat » page)")
    return found


def test_every_settings_field_of_every_installed_module_is_in_french() -> None:
    models: dict[str, Any] = {}
    for found in discover():
        manifest = found.manifest
        if manifest is not None and manifest.settings is not None:
            models[manifest.name] = manifest.settings
    assert {"ins", "dmp", "mssante", "eordonnance", "psc", "cards", "rappels"} <= set(models)
    report = [problem for name, model in sorted(models.items()) for problem in problems(name, model)]
    assert report == [], "\n".join(report)


def test_the_walk_catches_a_label_missing_its_help_an_english_label_and_json() -> None:
    class Careless(BaseModel):
        endpoint: str = Field("", title="Service endpoint", description="Where to call.")
        certificate_path: str = Field("", title="Chemin du certificat", description="Fichier PEM.")
        codes: dict[str, int] = Field(default_factory=dict, title="Codes", description="Par code.")
        bare: int = 3

    assert problems("careless", Careless) == [
        "careless.endpoint: English words in the label 'Service endpoint': ['endpoint']",
        "careless.certificate_path: the certificate as a file (use the « Certificat » page)",
        "careless.codes: edited as JSON",
        "careless.bare: no French label (title)",
        "careless.bare: no one-line help (description)",
    ]
