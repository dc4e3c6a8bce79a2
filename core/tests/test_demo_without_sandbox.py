"""Without the demonstration steps (a production install: no lgo-sandbox), ``lgo demo`` says so in one French line.
The tox environment ``production`` checks the same with the shipped packages really installed alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from lgo import cli
from lgo.plugins import discovery


def test_lgo_demo_without_its_steps_says_what_to_install(lgo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "demo_steps", lambda group=discovery.DEMO_GROUP: {})
    result = CliRunner().invoke(cli.main, ["demo"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "lgo-core[demo]" in lines[0] and "bacs à sable" in lines[0]
    assert not list(lgo_home.glob("demo.sqlite*"))  # nothing was created


def test_the_demo_steps_of_the_installed_plugins_are_found() -> None:
    steps = discovery.demo_steps()
    assert {"ins", "dmp", "vaccination", "entretiens", "eordonnance", "mssante", "psc", "cards"} <= set(steps)
    assert all(step.title_fr for step in steps["ins"]())
