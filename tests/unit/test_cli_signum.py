"""``python -m tarroitus signum`` run as a real process."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

WALTARI_BIB: dict[str, Any] = {
    "id": "1000001",
    "varFields": [
        {"fieldTag": "t", "marcTag": "245", "ind1": "1", "ind2": "0", "subfields": [{"tag": "a", "content": "Sinuhe"}]},
        {
            "fieldTag": "a",
            "marcTag": "100",
            "ind1": "1",
            "ind2": " ",
            "subfields": [{"tag": "a", "content": "Waltari, Mika,"}, {"tag": "d", "content": "1908-1979."}],
        },
    ],
}


def run_cli(stdin: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command line in a fresh interpreter with UTF-8 I/O."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "tarroitus", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_cli_signum_prints_signum(tmp_path: Path) -> None:
    # Given a Sierra bib as JSON on stdin
    stdin = json.dumps(WALTARI_BIB)
    # When the signum command runs
    result = run_cli(stdin, "signum", cwd=tmp_path)
    # Then it prints the signum alone
    assert (result.returncode, result.stdout, result.stderr) == (0, "WAL\n", "")


def test_cli_signum_explain_prints_heading(tmp_path: Path) -> None:
    # Given a bib whose main entry is a title with non-filing characters
    hobbit = {"marcTag": "245", "ind1": "1", "ind2": "4", "subfields": [{"tag": "a", "content": "The Hobbit"}]}
    bib = {"varFields": [hobbit]}
    # When the signum command runs with --explain
    result = run_cli(json.dumps(bib), "signum", "--explain", cwd=tmp_path)
    # Then the heading follows the signum
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["HOB", "heading: 245 14 $a The Hobbit (first 4 characters are non-filing)"]


def test_cli_signum_prints_non_ascii_signum(tmp_path: Path) -> None:
    # Given a Swedish author
    bib = {"varFields": [{"marcTag": "100", "ind1": "1", "subfields": [{"tag": "a", "content": "Åkesson, Sonja"}]}]}
    # When the signum command runs
    result = run_cli(json.dumps(bib, ensure_ascii=False), "signum", cwd=tmp_path)
    # Then Å survives the trip through stdout
    assert result.stdout == "ÅKE\n"


def test_cli_signum_without_main_entry_prints_marker(tmp_path: Path) -> None:
    # Given a bib object without varFields
    # When the signum command runs with --explain
    result = run_cli("{}", "signum", "--explain", cwd=tmp_path)
    # Then the marker is printed and the heading reported missing
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "***"
    assert result.stdout.splitlines()[1].startswith("heading: none")


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("{not json", "stdin is not valid JSON"),
        ("", "stdin is not valid JSON"),
        ("[1, 2]", "expected a JSON object with a varFields list, got list"),
    ],
    ids=["broken", "empty", "array"],
)
def test_cli_signum_invalid_input_exits_2(tmp_path: Path, stdin: str, message: str) -> None:
    # Given stdin that is not a bib JSON object
    # When the signum command runs
    result = run_cli(stdin, "signum", cwd=tmp_path)
    # Then it exits with 2 and a one-line message, no traceback, nothing on stdout
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_without_command_exits_2(tmp_path: Path) -> None:
    # Given no subcommand
    # When the command line runs
    result = run_cli("", cwd=tmp_path)
    # Then argparse reports the missing command
    assert result.returncode == 2
    assert "COMMAND" in result.stderr
