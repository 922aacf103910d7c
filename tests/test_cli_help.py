"""Every command's --help: flags shown as flags (no `<bool>` as if they took a value)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from xlt.cli import app

COMMANDS = sorted(command.name for command in typer.main.get_group(app).commands.values())


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_no_value_for_a_flag(command):
    result = CliRunner().invoke(app, [*([command] if command else []), "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "--help" in result.output and "<bool>" not in result.output
