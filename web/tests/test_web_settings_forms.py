"""Settings forms generated from pydantic models: field kinds and French validation messages."""

from __future__ import annotations

import enum
from typing import Literal

from lgo.settings_fields import KnownAddress, ServiceUrl, field_hints
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
    types: list[str] = Field(
        default_factory=list, json_schema_extra=field_hints(choices={"a": "Type A", "b": "Type B"})
    )
    counts: dict[str, int] = Field(default_factory=dict)
    service: ServiceUrl = Field(
        "",
        json_schema_extra=field_hints(
            addresses=(KnownAddress("https://test.exemple.fr/", "Test", test=True),), advanced=True
        ),
    )


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
        "codes": "lines",
        "types": "multi",
        "counts": "json",
        "service": "text",
    }
    service = next(spec for spec in field_specs(Sample) if spec.name == "service")
    assert service.advanced and service.addresses == (KnownAddress("https://test.exemple.fr/", "Test", test=True),)
    assert next(spec for spec in field_specs(Sample) if spec.name == "types").choices == (
        ("a", "Type A"),
        ("b", "Type B"),
    )
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
    assert validate(Sample, {"service": "ftp://x.fr"})["service"] == [
        "« ftp://x.fr » n'est pas une adresse : elle doit commencer par https://."
    ]
    assert validate(Sample, {"service": "https://"})["service"] == [
        "« https:// » : il manque le nom du serveur après https://."
    ]
