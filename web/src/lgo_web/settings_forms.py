"""Forms generated from a plugin's pydantic settings model, with French validation messages.

Every value is read as text and validated by the model itself (one source of truth for the rules); pydantic's
error types are translated here. A plugin's own validators should raise ``ValueError("message en français")``:
that message is shown as is.

Nobody types JSON: a ``dict[str, bool]`` is a group of check boxes, a list with choices
(:func:`lgo.settings_fields.field_hints`) too, another list of texts a box with one value per line. An address with
known test and production values offers them to choose from (free entry kept); an advanced field is folded away.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from dataclasses import dataclass
from typing import Any

import wtforms.fields.choices
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from lgo.settings_fields import KnownAddress, choices_of, is_advanced, known_addresses_of
from pydantic import BaseModel, SecretStr
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo
from wtforms import BooleanField, Field, PasswordField, SelectField, StringField, TextAreaField

# WTForms 3.3 deprecates (value, label) tuples for SelectChoice; older releases (and the stubs) only know tuples.
SelectChoice: Any = getattr(wtforms.fields.choices, "SelectChoice", None)


def select_choices(pairs: typing.Iterable[tuple[str, str]]) -> list[Any]:
    """``(value, label)`` pairs in the form the installed WTForms expects."""
    return [SelectChoice(value, label) if SelectChoice else (value, label) for value, label in pairs]


#: French messages by pydantic error type (``{…}`` filled from the error's context).
MESSAGES_FR = {
    "missing": "Ce champ est obligatoire.",
    "int_parsing": "Un nombre entier est attendu.",
    "int_type": "Un nombre entier est attendu.",
    "int_from_float": "Un nombre entier est attendu.",
    "float_parsing": "Un nombre est attendu.",
    "float_type": "Un nombre est attendu.",
    "decimal_parsing": "Un nombre est attendu.",
    "bool_parsing": "Oui ou non est attendu.",
    "bool_type": "Oui ou non est attendu.",
    "greater_than": "La valeur doit être supérieure à {gt}.",
    "greater_than_equal": "La valeur doit être supérieure ou égale à {ge}.",
    "less_than": "La valeur doit être inférieure à {lt}.",
    "less_than_equal": "La valeur doit être inférieure ou égale à {le}.",
    "string_too_short": "Au moins {min_length} caractère(s).",
    "string_too_long": "Au plus {max_length} caractère(s).",
    "string_pattern_mismatch": "Le format n'est pas le bon.",
    "string_type": "Un texte est attendu.",
    "url_parsing": "Adresse (URL) invalide.",
    "url_type": "Adresse (URL) invalide.",
    "url_syntax_violation": "Adresse (URL) invalide.",
    "url_scheme": "Cette adresse doit commencer par {expected_schemes}.",
    "url_too_long": "Adresse (URL) trop longue.",
    "literal_error": "Choix invalide : {expected} attendu.",
    "enum": "Choix invalide : {expected} attendu.",
    "value_error": "{error}",
    "assertion_error": "{error}",
    "json_invalid": "Texte JSON invalide.",
    "dict_type": "Une liste de valeurs est attendue.",
    "list_type": "Une liste de valeurs est attendue.",
}

SECRET_KEPT = "Laisser vide pour conserver la valeur enregistrée."


def french_message(error: Any) -> str:
    template = MESSAGES_FR.get(error["type"])
    if template is None:
        return "Valeur invalide."
    # Lists of choices come joined with an English "or".
    context = {k: str(v).replace(" or ", " ou ") for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return "Valeur invalide."


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    help: str
    #: text, secret, bool, choice, flags (dict[str, bool]), multi (list with choices), lines (list of texts), json
    kind: str
    choices: tuple[tuple[str, str], ...] = ()
    addresses: tuple[KnownAddress, ...] = ()
    advanced: bool = False


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def field_specs(model: type[BaseModel]) -> list[FieldSpec]:
    return [_spec(name, info) for name, info in model.model_fields.items()]


def _spec(name: str, info: FieldInfo) -> FieldSpec:
    annotation, _ = _unwrap_optional(info.annotation)
    kind, choices = _kind(annotation, info)
    return FieldSpec(
        name=name,
        label=info.title or name.replace("_", " ").capitalize(),
        help=info.description or "",
        kind=kind,
        choices=choices,
        addresses=tuple(known_addresses_of(info)) if kind == "text" else (),
        advanced=is_advanced(info),
    )


def _kind(annotation: Any, info: FieldInfo) -> tuple[str, tuple[tuple[str, str], ...]]:
    origin = typing.get_origin(annotation)
    if annotation is SecretStr:
        return "secret", ()
    if annotation is bool:
        return "bool", ()
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "choice", tuple((str(m.value), str(getattr(m, "label_fr", m.value))) for m in annotation)
    if origin is typing.Literal:
        return "choice", tuple((str(v), str(v)) for v in typing.get_args(annotation))
    if origin is dict and typing.get_args(annotation)[1:] == (bool,):
        return "flags", ()
    if origin in (list, tuple, set) and typing.get_args(annotation)[:1] == (str,):
        labelled = choices_of(info)
        return ("multi", tuple(labelled.items())) if labelled else ("lines", ())
    if annotation in (str, int, float) or not _is_container(annotation):
        return "text", ()
    return "json", ()


def _is_container(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin in (list, dict, tuple, set) or (isinstance(annotation, type) and issubclass(annotation, BaseModel))


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, BaseModel):
        return value.model_dump_json(indent=2)
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return str(value)


def build_form(model: type[BaseModel], current: BaseModel, formdata: Any = None) -> tuple[FlaskForm, list[FieldSpec]]:
    """A CSRF-protected form for the model, filled with the current values (secrets never sent to the page)."""
    specs = field_specs(model)

    class SettingsForm(FlaskForm):
        pass

    for spec in specs:
        value = getattr(current, spec.name)
        field: Field | None
        if spec.kind == "secret":
            field = PasswordField(spec.label, description=spec.help)
        elif spec.kind == "bool":
            field = BooleanField(spec.label, default=bool(value), description=spec.help)
        elif spec.kind == "choice":
            field = SelectField(
                spec.label,
                choices=select_choices(spec.choices),
                default=_display(value),
                description=spec.help,
                validate_choice=False,
            )
        elif spec.kind == "flags":
            for key, flag in dict(value or {}).items():
                setattr(SettingsForm, f"{spec.name}__{key}", BooleanField(str(key), default=bool(flag)))
            field = None
        elif spec.kind == "multi":
            chosen = set(value or ())
            for index, (code, label) in enumerate(spec.choices):
                setattr(SettingsForm, f"{spec.name}__{index}", BooleanField(label, default=code in chosen))
            field = None
        elif spec.kind == "lines":
            field = TextAreaField(spec.label, default="\n".join(value or ()), description=spec.help)
        else:
            field = StringField(spec.label, default=_display(value), description=spec.help)
        if field is not None:
            setattr(SettingsForm, spec.name, field)
    return SettingsForm(formdata=formdata), specs


def flag_fields(form: FlaskForm, spec: FieldSpec) -> list[Any]:
    prefix = f"{spec.name}__"
    return [field for field in form if field.name.startswith(prefix)]


def submitted_values(form: FlaskForm, specs: list[FieldSpec], current: BaseModel) -> dict[str, Any]:
    """The values to validate: what the form says, the stored secret when its field is left empty."""
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.kind == "flags":
            values[spec.name] = {f.name[len(spec.name) + 2 :]: bool(f.data) for f in flag_fields(form, spec)}
            continue
        if spec.kind == "multi":
            ticked = {int(f.name[len(spec.name) + 2 :]) for f in flag_fields(form, spec) if f.data}
            values[spec.name] = [code for index, (code, _) in enumerate(spec.choices) if index in ticked]
            continue
        if spec.kind == "lines":
            values[spec.name] = [line.strip() for line in (form[spec.name].data or "").splitlines() if line.strip()]
            continue
        data = form[spec.name].data
        if spec.kind == "secret":
            if data:
                values[spec.name] = data
            else:
                kept = getattr(current, spec.name)
                values[spec.name] = kept.get_secret_value() if isinstance(kept, SecretStr) else kept
        elif spec.kind == "bool":
            values[spec.name] = bool(data)
        elif spec.kind == "json":
            try:
                values[spec.name] = json.loads(data) if data.strip() else None
            except json.JSONDecodeError:
                values[spec.name] = data  # the model reports the problem in French
        else:
            text = (data or "").strip()
            optional = _unwrap_optional(type(current).model_fields[spec.name].annotation)[1]
            values[spec.name] = None if (text == "" and optional) else text
    return values


def validate(model: type[BaseModel], values: dict[str, Any]) -> dict[str, list[str]]:
    """French messages by field name (``""`` for errors of the whole model); empty when valid."""
    try:
        model.model_validate(values)
    except PydanticValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            location = error["loc"]
            name = str(location[0]) if location else ""
            errors.setdefault(name, []).append(french_message(error))
        return errors
    return {}


def field_info(model: type[BaseModel], name: str) -> FieldInfo:
    return model.model_fields[name]
