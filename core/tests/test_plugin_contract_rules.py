"""The plugin contract enforced by the kernel: refused hook options, one fail-closed rule for name collisions,
typed hook calls, outbox handlers that receive the kernel, habilitations and sign-in methods declared by plugins."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from lgo import hookimpl, hookspecs
from lgo.demo_data import Seeded
from lgo.domain import outbox
from lgo.domain.billing import ActDefinition
from lgo.domain.pharmacy import Operator, Role
from lgo.events import BillingEnded
from lgo.kernel import Kernel
from lgo.plugins.hooks import Hooks
from lgo.plugins.manifest import Manifest, PluginState
from lgo.plugins.registrations import HabilitationDefinition, SignInMethod
from lgo.worker import Delivery, Worker
from sqlalchemy import select


class Named:
    def __init__(self, name: str, requires: tuple[str, ...] = ()) -> None:
        self.MANIFEST = Manifest(name=name, plugin_api=">=2.0,<3", requires=requires)


class Wrapping(Named):
    @hookimpl(wrapper=True)
    def lgo_on_billing_end(self, kernel: Kernel, event: BillingEnded) -> None:
        yield  # type: ignore[misc]


class First(Named):
    @hookimpl(tryfirst=True)
    def lgo_on_billing_end(self, kernel: Kernel, event: BillingEnded) -> None:
        return None


class Sender(Named):
    def __init__(self, name: str, kind: str, seen: list[tuple[Kernel, Delivery]] | None = None) -> None:
        super().__init__(name)
        self.kind = kind
        self.seen = seen if seen is not None else []

    @hookimpl
    def lgo_register_outbox_handlers(self) -> dict[str, object]:
        return {self.kind: lambda kernel, delivery: self.seen.append((kernel, delivery))}


class Acts(Named):
    @hookimpl
    def lgo_register_acts(self) -> list[ActDefinition]:
        return [ActDefinition("XYZ", "Acte d'essai", 100)]


class Rights(Named):
    def __init__(self, name: str, code: str, roles: tuple[str, ...] = ("titulaire",)) -> None:
        super().__init__(name)
        self.code = code
        self.roles = roles

    @hookimpl
    def lgo_register_habilitations(self) -> list[HabilitationDefinition]:
        return [HabilitationDefinition(self.code, "Droit d'essai", "Pour les tests.", default_roles=self.roles)]


class SignIn(Named):
    @hookimpl
    def lgo_register_sign_in_methods(self) -> list[SignInMethod]:
        return [SignInMethod("carte", "Se connecter avec la carte", "carte.login", "carte")]


def test_wrapper_and_ordering_options_are_refused_with_their_reason(lgo_make_kernel: Callable[..., Kernel]) -> None:
    kernel = lgo_make_kernel(Wrapping("wrapping"), First("first"), Named("plain"), Named("above", ("wrapping",)))
    states = {i.name: i for i in kernel.registry.all()}
    assert states["wrapping"].state is PluginState.FAILED
    assert "lgo_on_billing_end (wrapper)" in states["wrapping"].reason
    assert states["first"].state is PluginState.FAILED and "(tryfirst)" in states["first"].reason
    assert states["above"].state is PluginState.MISSING_DEPENDENCY
    assert states["plain"].state is PluginState.ACTIVE


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda n: Sender(n, "essai.send"), "le type d'envoi « essai.send »"),
        (lambda n: Acts(n), "l'acte « XYZ »"),
        (lambda n: Rights(n, "essai.lire"), "l'habilitation « essai.lire »"),
        (lambda n: SignIn(n), "la méthode de connexion « carte »"),
    ],
)
def test_a_name_declared_by_two_plugins_takes_both_out(
    lgo_make_kernel: Callable[..., Kernel], make: Callable[[str], Named], what: str
) -> None:
    kernel = lgo_make_kernel(make("alpha"), make("beta"), Named("gamma"), strict=False)
    states = {i.name: i for i in kernel.registry.all()}
    assert states["alpha"].state is PluginState.FAILED and states["beta"].state is PluginState.FAILED
    assert what in states["alpha"].reason and "« beta »" in states["alpha"].reason
    assert what in states["beta"].reason and "« alpha »" in states["beta"].reason
    assert states["gamma"].state is PluginState.ACTIVE
    assert "essai.send" not in kernel.outbox_handlers and "XYZ" not in kernel.acts
    assert all(h.code != "essai.lire" for h in kernel.habilitations())


def test_a_plugin_may_not_take_a_kernel_name(lgo_make_kernel: Callable[..., Kernel]) -> None:
    kernel = lgo_make_kernel(Sender("squatter", "http.post"), Rights("rights", "stock.force"))
    states = {i.name: i for i in kernel.registry.all()}
    assert "réservé au noyau" in states["squatter"].reason and "réservé au noyau" in states["rights"].reason
    assert kernel.outbox_handlers["http.post"].__module__ == "lgo.worker"


def test_two_plugins_with_one_name_are_both_refused(lgo_home: Path) -> None:
    kernel = Kernel(
        f"sqlite:///{lgo_home}/twin.sqlite", discover_installed=False, extra_plugins=[Named("twin"), Named("twin")]
    )
    try:
        twin = kernel.registry.get("twin")
        assert twin is not None and twin.state is PluginState.FAILED
        assert "plusieurs modules installés" in twin.reason
        assert "twin" not in kernel.registry.order
    finally:
        kernel.close()


def test_outbox_handlers_receive_the_kernel_that_runs_the_worker(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    seen: list[tuple[Kernel, Delivery]] = []
    kernel = lgo_make_kernel(Sender("sender", "sender.send", seen))
    with kernel.transaction() as session:
        outbox.enqueue(session, lgo_seeded.pharmacy_id, plugin="sender", kind="sender.send", payload={"n": 1})
    assert Worker(kernel).drain() == 1
    assert [(k, d.payload) for k, d in seen] == [(kernel, {"n": 1})]


def test_plugin_habilitations_are_listed_and_granted_to_default_roles_when_first_switched_on(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(Rights("rights", "rights.lire", roles=("titulaire", "preparateur")))
    codes = {h.code: h for h in kernel.habilitations()}
    assert codes["rights.lire"].label_fr == "Droit d'essai"
    assert {"stock.force", "settings.edit", "ordonnancier.correct"} <= set(codes)
    assert "rights.lire" in kernel.default_habilitations(Role.PREPARATEUR)
    assert "rights.lire" not in kernel.default_habilitations(Role.ADJOINT)

    kernel.enable(lgo_seeded.pharmacy_id, "rights")
    with kernel.transaction() as session:
        holders = {o.code for o in session.scalars(select(Operator)) if o.has("rights.lire")}
        titulaire = session.get(Operator, lgo_seeded.operators["titulaire"])
        assert titulaire is not None
        titulaire.habilitations = [h for h in titulaire.habilitations if h.habilitation != "rights.lire"]
    assert holders == {"titulaire", "preparatrice"}
    kernel.disable(lgo_seeded.pharmacy_id, "rights")
    kernel.enable(lgo_seeded.pharmacy_id, "rights")  # switching on again grants nothing back
    with kernel.transaction() as session:
        titulaire = session.get(Operator, lgo_seeded.operators["titulaire"])
        assert titulaire is not None and not titulaire.has("rights.lire")


def test_sign_in_methods_are_offered_only_where_their_plugin_is_active(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(SignIn("carte"))
    assert kernel.sign_in_methods(lgo_seeded.pharmacy_id) == []
    kernel.enable(lgo_seeded.pharmacy_id, "carte")
    assert [m.name for m in kernel.sign_in_methods(lgo_seeded.pharmacy_id)] == ["carte"]


def test_every_hookspec_has_its_typed_method_and_no_hook_is_called_by_a_string() -> None:
    specs = {name for name in vars(hookspecs) if name.startswith("lgo_")}
    facade = Path(Hooks.__module__.replace(".", "/") + ".py")
    source = (Path(__file__).parents[1] / "src" / facade).read_text()
    called = {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
    assert specs <= called, f"hooks without a typed method: {sorted(specs - called)}"
    # Outside the facade, no module of the kernel or of lgo-web names a hook in a string.
    roots = [Path(__file__).parents[1] / "src" / "lgo", Path(__file__).parents[2] / "web" / "src" / "lgo_web"]
    offenders = []
    for root in roots:
        for path in root.rglob("*.py"):
            if path.name in ("hooks.py", "hookspecs.py"):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in specs:
                    offenders.append(f"{path.name}: {node.value}")
    assert not offenders
