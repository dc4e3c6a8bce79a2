"""The counter's hooks (API 2.1): windows per action kind, keys, answers and commands heard only by their plugin,
panels and service states collected from the active plugins, one fail-closed rule for their names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lgo import hookimpl
from lgo.actions import ActionRequired, Choice
from lgo.demo_data import Seeded
from lgo.events import ActionAnswered, CounterCommand, CounterView
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest, PluginState
from lgo.plugins.registrations import CounterPanel, CounterShortcut, CounterWindow, ServiceStatus
from lgo.testing.contracts import check_counter_blocking, check_counter_registrations


class Windowed:
    def __init__(
        self, name: str, folder: Path, kind: str = "essai.question", key: str = "F3", command: str | None = None
    ) -> None:
        self.MANIFEST = Manifest(name=name, plugin_api=">=2.1,<3", label_fr=f"Essai {name}")
        self.folder, self.kind, self.key = folder, kind, key
        self.command = command or f"{name}.ouvrir"
        self.answers: list[ActionAnswered] = []
        self.commands: list[CounterCommand] = []

    @hookimpl
    def lgo_register_counter_windows(self) -> list[CounterWindow]:
        return [CounterWindow(self.kind, "question.html", self.folder, keys_fr="O : oui")]

    @hookimpl
    def lgo_register_counter_shortcuts(self) -> list[CounterShortcut]:
        return [CounterShortcut(self.key, "Ouvrir", self.command)]

    @hookimpl
    def lgo_on_counter_command(self, kernel: Kernel, event: CounterCommand) -> ActionRequired:
        self.commands.append(event)
        return ActionRequired(self.kind, self.MANIFEST.name, "Question ?", choices=(Choice("oui", "Oui"),))

    @hookimpl
    def lgo_on_action_answered(self, kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
        self.answers.append(event)
        return []

    @hookimpl
    def lgo_counter_panels(self, kernel: Kernel, view: CounterView) -> list[CounterPanel]:
        return [CounterPanel("banner", "Essai", (f"patient {view.patient_id}",)), "pas un panneau"]  # type: ignore[list-item]

    @hookimpl
    def lgo_service_status(self, kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[ServiceStatus]:
        return [ServiceStatus("essai", "Service d'essai", "degraded", "2 nouveaux essais", waiting_for_patient=1)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "question.html").write_text("<p>{{ action.title_fr }}</p>")
    return tmp_path


def test_windows_keys_answers_panels_and_states_reach_the_right_plugin(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, folder: Path
) -> None:
    one, other = Windowed("un", folder), Windowed("deux", folder, kind="deux.question", key="Alt+D")
    kernel = lgo_make_kernel(one, other)
    pharmacy, operator = lgo_seeded.pharmacy_id, lgo_seeded.operators["preparatrice"]
    assert kernel.counter_window(pharmacy, "essai.question") is None  # not active: rendered generically
    assert kernel.counter_shortcuts(pharmacy) == []
    kernel.enable(pharmacy, "un")
    kernel.enable(pharmacy, "deux")
    plugin, window = kernel.counter_window(pharmacy, "essai.question") or ("", None)
    assert plugin == "un" and window is not None and window.template == "question.html"
    assert [k.key for _p, k in kernel.counter_shortcuts(pharmacy)] == ["F3", "Alt+D"]  # F-keys first

    (action,) = kernel.hooks.on_counter_command("un", CounterCommand(pharmacy, operator, "un.ouvrir", None))
    assert action.kind == "essai.question" and len(one.commands) == 1 and other.commands == []
    answered = ActionAnswered(pharmacy, operator, action.kind, "un", None, "oui", {"note": "x"}, {})
    assert kernel.hooks.on_action_answered(answered) == []
    assert len(one.answers) == 1 and other.answers == []

    panels = kernel.hooks.counter_panels(CounterView(pharmacy, operator, patient_id=7))
    assert sorted((p, panel.lines_fr) for p, panel in panels) == [("deux", ("patient 7",)), ("un", ("patient 7",))]
    states = kernel.hooks.service_status(pharmacy, 7)
    assert sorted((p, s.state_fr, s.waiting_for_patient) for p, s in states) == [
        ("deux", "dégradé", 1),
        ("un", "dégradé", 1),
    ]
    check_counter_registrations(kernel, one)


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        (lambda f: Windowed("deux", f, key="F6"), "la fenêtre du comptoir pour « essai.question »"),
        (lambda f: Windowed("deux", f, kind="deux.q", key="F3"), "la touche du comptoir « F3 »"),
        (lambda f: Windowed("deux", f, kind="deux.q", key="F7", command="un.ouvrir"), "la commande du comptoir"),
    ],
)
def test_a_window_key_or_command_declared_twice_takes_both_plugins_out(
    lgo_make_kernel: Callable[..., Kernel], folder: Path, second: Callable[[Path], Any], reason: str
) -> None:
    kernel = lgo_make_kernel(Windowed("un", folder), second(folder))
    for name in ("un", "deux"):
        info = kernel.registry.get(name)
        assert info is not None and info.state is PluginState.FAILED and reason in info.reason


def test_the_counter_keeps_its_own_keys_and_commands_carry_the_plugin_name(
    lgo_make_kernel: Callable[..., Kernel], folder: Path
) -> None:
    kernel = lgo_make_kernel(
        Windowed("un", folder, key="F10"), Windowed("deux", folder, kind="b.c", key="F7", command="x.y")
    )
    one, two = kernel.registry.get("un"), kernel.registry.get("deux")
    assert one is not None and "réservé au noyau" in one.reason
    assert two is not None and "doit commencer par « deux. »" in two.reason
    with pytest.raises(ValueError, match="not F1-F12"):
        CounterShortcut("Entrée", "Valider", "x.y")
    assert CounterShortcut("Alt+D", "Dossier", endpoint="dossier.patient", needs_patient=True).command == ""
    with pytest.raises(ValueError, match="either a command or an endpoint"):
        CounterShortcut("Alt+D", "Dossier", "dossier.ouvrir", endpoint="dossier.patient")
    with pytest.raises(ValueError, match="inside its folder"):
        CounterWindow("a.b", "../secret.html", folder)


def test_the_contract_kit_refuses_a_window_whose_template_is_missing(
    lgo_make_kernel: Callable[..., Kernel], tmp_path: Path
) -> None:
    plugin = Windowed("un", tmp_path)  # no question.html there
    kernel = lgo_make_kernel(plugin)
    with pytest.raises(AssertionError, match="not found"):
        check_counter_registrations(kernel, plugin)


class Sectioned:
    """A plugin with a section of the patient's file, well formed or not."""

    def __init__(self, answer: Callable[[Any], Any]) -> None:
        self.MANIFEST = Manifest(name="dossier", plugin_api=">=2.6,<3", label_fr="Essai dossier")
        self.answer = answer

    @hookimpl
    def lgo_patient_file_sections(self, kernel: Kernel, view: Any) -> Any:
        return self.answer(view)


def test_the_contract_kit_checks_the_sections_of_the_patient_file(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    from lgo.plugins.registrations import PatientFileSection
    from lgo.testing.contracts import check_patient_file_sections

    good = Sectioned(lambda view: [PatientFileSection("essai", "Essai", lines_fr=(f"patient {view.patient_id}",))])
    check_patient_file_sections(lgo_make_kernel(good), lgo_seeded, good)
    twice = Sectioned(lambda view: [PatientFileSection("essai", "Essai"), PatientFileSection("essai", "Encore")])
    with pytest.raises(AssertionError, match="anchors given twice"):
        check_patient_file_sections(lgo_make_kernel(twice), lgo_seeded, twice)
    wrong = Sectioned(lambda view: ["<b>une section</b>"])
    with pytest.raises(AssertionError, match="PatientFileSection expected"):
        check_patient_file_sections(lgo_make_kernel(wrong), lgo_seeded, wrong)

    def refuses_the_preparer(view: Any) -> list[PatientFileSection]:
        if view.operator_id == lgo_seeded.operators["preparatrice"]:
            raise PermissionError("non habilité")
        return []

    raising = Sectioned(refuses_the_preparer)
    with pytest.raises(PermissionError):
        check_patient_file_sections(lgo_make_kernel(raising), lgo_seeded, raising)


class Blocking:
    """Blocks the counters (API 2.5) and may forget to listen to the answers."""

    MANIFEST = Manifest(name="bloque", plugin_api=">=2.5,<3", label_fr="Essai bloquant")

    def __init__(self, blocking: bool = True) -> None:
        self.blocking = blocking

    @hookimpl
    def lgo_counter_blocking(self, kernel: Kernel, pharmacy_id: int) -> list[Any]:
        action = ActionRequired("bloque.avis", "bloque", "Avis", blocking=self.blocking, data={"key": "1"})
        return [action, "pas une action"]


class Answering(Blocking):
    @hookimpl
    def lgo_on_action_answered(self, kernel: Kernel, event: ActionAnswered) -> None:
        return None


def test_blocking_actions_are_collected_per_pharmacy_and_the_contract_kit_wants_them_answerable(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    good = Answering()
    kernel = lgo_make_kernel(good)
    assert kernel.hooks.counter_blocking(pharmacy) == []  # not active in the pharmacy
    kernel.enable(pharmacy, "bloque")
    assert [(p, a.kind) for p, a in kernel.hooks.counter_blocking(pharmacy)] == [("bloque", "bloque.avis")]
    check_counter_blocking(kernel, pharmacy, good)
    good.blocking = False
    with pytest.raises(AssertionError, match="blocking=True"):
        check_counter_blocking(kernel, pharmacy, good)

    deaf = Blocking()
    kernel = lgo_make_kernel(deaf)
    with pytest.raises(AssertionError, match="lgo_on_action_answered missing"):
        check_counter_blocking(kernel, pharmacy, deaf)
