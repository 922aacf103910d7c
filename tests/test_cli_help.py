"""Every command's --help: flags shown as flags (no `<bool>` as if they took a value); the backend options."""

from __future__ import annotations

import dataclasses

import pytest
import typer
from typer.testing import CliRunner

from xlt.cli import app
from xlt.cli.backends import Backends

COMMANDS = sorted(command.name for command in typer.main.get_group(app).commands.values())


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_no_value_for_a_flag(command):
    result = CliRunner().invoke(app, [*([command] if command else []), "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "--help" in result.output and "<bool>" not in result.output


def _options(command: str) -> set[str]:
    return {name for param in typer.main.get_group(app).commands[command].params for name in param.opts}


def test_run_and_demo_take_every_backend_option():
    backend_flags = {"--" + f.name.replace("_", "-") for f in dataclasses.fields(Backends)}
    assert backend_flags <= _options("run") and backend_flags <= _options("demo")
    assert "--track" in _options("demo")  # demo once lacked it


def test_demo_hands_its_backend_options_to_the_run(monkeypatch):
    seen = {}
    monkeypatch.setattr("xlt.cli._run", lambda config, out, overrides, dry_run, backend: seen.update(backend=backend))
    result = CliRunner().invoke(app, ["demo", "--track", "tensorboard", "--workers", "2", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert seen["backend"] == Backends(track="tensorboard", workers=2)
    assert seen["backend"].overrides() == ["tracking.backend=tensorboard"]
