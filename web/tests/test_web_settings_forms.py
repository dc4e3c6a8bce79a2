"""Settings forms generated from pydantic models: field kinds and French validation messages."""

from __future__ import annotations

import enum
from typing import Literal

from lgo_web.settings_forms import field_specs, validate
from pydantic import BaseModel, Field, HttpUrl, SecretStr


class Mode(enum.Enum):
    AUTO = "auto"
    MANUAL = "manuel"


class Sample(BaseModel):
    count: int = Field(3, ge=1, le=5, title="Compteur")
    url: HttpUrl = HttpUrl("https://a.test/")
    name: str = Field("x", min_length=1, max_length=4)
    secret: SecretStr | None = None
    flag: bool = False
    mode: Mode = Mode.AUTO
    level: Literal["bas", "haut"] = "bas"
    feeds: dict[str, bool] = Field(default_factory=lambda: {"vaccination": True})
    codes: list[str] = Field(default_factory=list)


def test_field_kinds() -> None:
    kinds = {spec.name: spec.kind for spec in field_specs(Sample)}
    assert kinds == {
        "count": "text",
        "url": "text",
        "name": "text",
        "secret": "secret",
        "flag": "bool",
        "mode": "choice",
        "level": "choice",
        "feeds": "flags",
        "codes": "json",
    }
    labels = {spec.name: spec.label for spec in field_specs(Sample)}
    assert labels["count"] == "Compteur" and labels["url"] == "Url"


def test_messages_are_french() -> None:
    errors = validate(Sample, {"count": "zéro", "url": "ftp//", "name": "", "level": "moyen"})
    assert errors["count"] == ["Un nombre entier est attendu."]
    assert errors["url"] == ["Adresse (URL) invalide."]
    assert errors["name"] == ["Au moins 1 caractère(s)."]
    assert errors["level"] == ["Choix invalide : 'bas' ou 'haut' attendu."]
    assert validate(Sample, {"count": "9"})["count"] == ["La valeur doit être inférieure ou égale à 5."]
    assert validate(Sample, {"count": "2", "mode": "manuel", "secret": "s"}) == {}
