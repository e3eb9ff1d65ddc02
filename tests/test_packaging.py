"""What pyproject.toml claims about versions is what CI tests."""

import pathlib
import re

import pytest
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")

ROOT = pathlib.Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([0-9][^\s#]*)")
FLOOR = re.compile(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,;\s]*)")


def _normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _dependencies():
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["dependencies"]


def test_every_floor_is_pinned_in_the_oldest_environment():
    floors = {}
    for requirement in _dependencies():
        match = FLOOR.match(requirement)
        assert match, f"{requirement!r} declares no >= floor for CI to test"
        floors[_normal(match.group(1))] = Version(match.group(2))
    text = (ROOT / "scripts" / "oldest-constraints.txt").read_text()
    pins = {
        _normal(m.group(1)): Version(m.group(2))
        for m in map(PIN.match, text.splitlines())
        if m is not None
    }
    assert {name: pins.get(name) for name in floors} == floors


def test_ci_runs_the_readme_command_and_the_oldest_environment():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/setup.sh && .venv/bin/python -m pytest\n" in ci
    assert ".venv-oldest/bin/python -m pytest" in ci
    assert "./scripts/setup_oldest.sh" in ci
