"""The README and the command line agree: every command has help and is documented, and CI runs the README's test
command."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from watcher.cli import COMMANDS, build_parser

README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)]


def test_quick_start_has_run_and_test_commands_and_ci_uses_the_test_command():
    """The first two README code blocks are the run and test commands, and .ci/run runs the test command."""
    run, test = code_blocks(README)[:2]
    assert "watcher run" in run and "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_and_is_documented(command, capsys):
    """Each subcommand answers --help and appears in the README."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out
    assert f"watcher {command}" in README
