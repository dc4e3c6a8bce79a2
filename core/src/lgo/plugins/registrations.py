"""What plugins declare to the kernel at start-up, beyond hooks: habilitations, certificate uses, sign-in methods,
and what they bring to the counter (windows for their actions, keyboard shortcuts, panels, the state of their
national services).

Each kind of name (a habilitation code, an outbox kind, an act code, a CLI command, a web blueprint, a sign-in
method, the action kind of a counter window, a counter key or command) belongs to one plugin. When two plugins
declare the same name, **both** are refused with a reason naming the other (fail-closed: guessing which one the
pharmacy meant could send a document to the wrong service); see
:meth:`lgo.plugins.registry.PluginRegistry.refuse_collisions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class HabilitationDefinition:
    """A right an administrator grants to operators (``dmp.consult``...). ``code`` is dotted and starts with the
    plugin's name; ``default_roles`` get it when an operator of that role is created."""

    code: str
    label_fr: str
    help_fr: str = ""
    default_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class CertificateUsage:
    """A use of the pharmacy's certificate for which the administrator may store a different certificate than the
    organisation one (the « Certificat » page offers a slot per use). ``kind`` is what the plugin passes to
    :func:`lgo.domain.certificates.pharmacy_credential`; it starts with the plugin's name."""

    kind: str
    label_fr: str
    help_fr: str = ""


@dataclass(frozen=True)
class SignInMethod:
    """Another way to sign in than code + password, offered on the sign-in page while the plugin is active.

    ``endpoint`` is the Flask endpoint that starts it (a view of the plugin's blueprint); ``counter_endpoint`` an
    optional variant for a shared counter workstation (e.g. a push to the professional's phone);
    ``logout_endpoint`` the view that also ends the session with the identity provider, used for operators who
    signed in with this method (``auth_method`` is what the plugin stores in the session)."""

    name: str
    label_fr: str
    endpoint: str
    auth_method: str
    counter_endpoint: str | None = None
    counter_label_fr: str = ""
    logout_endpoint: str | None = None


# --- the counter (lgo web, /comptoir) ---------------------------------------------------------------------

#: Keys the counter keeps for itself (and keys a browser will not give a page): a plugin shortcut on one of them
#: is refused at start-up like any other name collision. ``Alt+P`` opens the patient's file (API 2.6).
KERNEL_COUNTER_KEYS = frozenset({"F1", "F2", "F4", "F5", "F8", "F9", "F10", "F11", "F12", "Escape", "Alt+P"})

_KEY = re.compile(r"^(?:(?:Alt|Ctrl|Shift)\+)?(?:F(?:[1-9]|1[0-2])|[A-Z0-9])$")
_DOTTED = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_.]+$")


@dataclass(frozen=True)
class CounterWindow:
    """The window the counter shows for the :class:`lgo.actions.ActionRequired` of one ``kind``.

    ``template`` is a Jinja template file in ``folder`` (the plugin's own folder of counter templates). The counter
    includes it inside its dialog with ``action`` (the :class:`~lgo.actions.ActionRequired`), ``answer_url`` (where
    the window's form posts: the answer becomes a :class:`lgo.events.ActionAnswered` event for the plugin),
    ``csrf_token()``, ``patient`` (a :class:`lgo.events.CounterPatient` or ``None``) and ``error_fr``. A kind with
    no window is rendered generically from ``title_fr``, ``message_fr`` and ``choices``. One kind has one window:
    two plugins registering the same kind are both refused."""

    kind: str
    template: str
    folder: Path
    #: Keys the window answers to, shown at its foot (« 1 à 5 : pièce présentée ; Échap : plus tard »).
    keys_fr: str = ""

    def __post_init__(self) -> None:
        if not _DOTTED.match(self.kind):
            raise ValueError(f"action kind {self.kind!r} must be dotted and lower-case (ins.insi_result)")
        if ".." in Path(self.template).parts or Path(self.template).is_absolute():
            raise ValueError(f"template {self.template!r} must be a path inside its folder")


@dataclass(frozen=True)
class CounterShortcut:
    """A key of the counter that runs one of the plugin's commands (``F6``: read the carte Vitale; ``F3``: the
    ordonnance numérique). The key is shown on screen with ``label_fr``; pressing it announces a
    :class:`lgo.events.CounterCommand` to the plugin, which answers with the actions (windows) to show. A key may
    instead open a page of the plugin's blueprint (``endpoint``, e.g. the patient's file): the counter links it with
    the query parameters ``patient_id`` and ``draft_id``, and ``command`` stays empty.

    ``key``: ``F1``…``F12`` or a letter or digit, optionally after ``Alt+``, ``Ctrl+`` or ``Shift+``; the
    counter's own keys (:data:`KERNEL_COUNTER_KEYS`) are reserved. ``command`` is dotted and starts with the
    plugin's name. ``needs_patient``: shown only once a patient is selected. ``habilitation``: shown only to the
    operators who hold it (a key that would answer « non habilité » is not shown, API 2.6)."""

    key: str
    label_fr: str
    command: str = ""
    needs_patient: bool = False
    #: A Flask endpoint of the plugin's blueprint to open instead of a command (``dossier.patient``).
    endpoint: str = ""
    #: The habilitation an operator needs to see the key (``dmp.consult``); empty: every operator.
    habilitation: str = ""

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"counter key {self.key!r} is not F1-F12 or [Alt+|Ctrl+|Shift+]<letter or digit>")
        if bool(self.command) == bool(self.endpoint):
            raise ValueError("a counter key has either a command or an endpoint")
        if self.command and not _DOTTED.match(self.command):
            raise ValueError(f"counter command {self.command!r} must be dotted and lower-case (cards.read_vitale)")


PanelPlace = Literal["banner", "billing"]
Tone = Literal["info", "ok", "warning", "error"]


@dataclass(frozen=True)
class CounterPanel:
    """A small block a plugin adds to the patient banner (``place="banner"``) or beside the billing
    (``place="billing"``): a title, a few lines of text, a tone (colour) and optionally the key that acts on it.
    Returned by ``lgo_counter_panels`` for the patient and billing on screen; the counter escapes every text."""

    place: PanelPlace
    title_fr: str
    lines_fr: tuple[str, ...] = ()
    tone: Tone = "info"
    key_hint_fr: str = ""


ServiceState = Literal["ok", "degraded", "down", "unknown"]

SERVICE_STATE_FR: dict[str, str] = {
    "ok": "disponible",
    "degraded": "dégradé",
    "down": "indisponible",
    "unknown": "pas encore utilisé",
}


@dataclass(frozen=True)
class ServiceStatus:
    """How a national service a plugin talks to is doing, for the counter's status bar: ``ok``, ``degraded``
    (recent errors, retries pending), ``down`` (the last calls failed, messages given up) or ``unknown`` (not used
    yet). ``waiting_for_patient`` counts the outbox messages of this service still waiting for the patient on
    screen. Returned by ``lgo_service_status``; derived from the outbox and the plugin's recent calls, never by
    calling the service while the counter waits."""

    service: str
    label_fr: str
    state: ServiceState
    detail_fr: str = ""
    waiting_for_patient: int = 0

    @property
    def state_fr(self) -> str:
        return SERVICE_STATE_FR[self.state]


# --- the patient's file (lgo web, /comptoir, API 2.6) ---------------------------------------------------------


@dataclass(frozen=True)
class FileLink:
    """A link of a patient's file section to a page of the plugin's blueprint: ``endpoint`` with ``params`` (the
    counter builds the address, so a plugin needs no Flask here). ``key`` (optional) is the shortcut shown beside
    it, e.g. ``Alt+D``; ``method="post"`` makes it a button that posts (with the CSRF token)."""

    label_fr: str
    endpoint: str
    params: tuple[tuple[str, str | int], ...] = ()
    key: str = ""
    method: Literal["get", "post"] = "get"

    def __post_init__(self) -> None:
        if self.key and not _KEY.match(self.key):
            raise ValueError(f"key {self.key!r} is not F1-F12 or [Alt+|Ctrl+|Shift+]<letter or digit>")


@dataclass(frozen=True)
class FileRow:
    """One row of a section's table: its cells (text, escaped by the counter), an optional link to open what the
    row describes, and whether it is highlighted (``highlight_fr`` says why, e.g. « nouveau »)."""

    cells: tuple[str, ...]
    link: FileLink | None = None
    highlight_fr: str = ""


@dataclass(frozen=True)
class PatientFileSection:
    """What a plugin shows in the patient's file (``lgo_patient_file_sections``): a titled block with a few lines of
    text, a table (``columns_fr`` and ``rows``) and links (actions, each shown only if the plugin offers it to this
    operator). ``fragment``: a page of the plugin's blueprint whose HTML the counter fetches *after* showing the file
    and puts under the title — for what needs a national service (the DMP), so that the file never waits for one;
    without JavaScript it is a link. ``order`` places the section (the kernel's: identity 10, dispensings 20,
    documents produced here 40)."""

    anchor: str
    title_fr: str
    lines_fr: tuple[str, ...] = ()
    columns_fr: tuple[str, ...] = ()
    rows: tuple[FileRow, ...] = ()
    empty_fr: str = ""
    links: tuple[FileLink, ...] = ()
    fragment: FileLink | None = None
    order: int = 50

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z][a-z0-9-]*$", self.anchor):
            raise ValueError(f"section anchor {self.anchor!r} must be lower-case letters, digits and dashes")
        wrong = [row for row in self.rows if self.columns_fr and len(row.cells) != len(self.columns_fr)]
        if wrong:
            raise ValueError(f"section {self.anchor}: a row has {len(wrong[0].cells)} cells for {len(self.columns_fr)}")
