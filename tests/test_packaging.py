"""The project's front door: the README's commands, CI, and the two install descriptions."""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def _name(requirement):
    return re.split(r"[<>=!\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_runtime_dependency_is_numpy_only():
    assert [_name(r) for r in _pyproject()["project"]["dependencies"]] == ["numpy"]


def test_environment_yml_matches_the_dev_extra():
    extras = _pyproject()["project"]["optional-dependencies"]
    wanted = {_name(r) for group in extras.values() for r in group} - {"autograd-lite-course"}
    text = (ROOT / "environment.yml").read_text()
    listed = {_name(line.strip().lstrip("- ")) for line in text.splitlines()
              if line.strip().startswith("- ") and not line.strip().endswith(":")}
    assert wanted <= listed, f"missing from environment.yml: {sorted(wanted - listed)}"
    assert "conda-forge" in text and "-e ." in text


def test_readme_quick_start_has_exactly_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", quick, flags=re.S)
    commands = [line for block in blocks for line in block.splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert commands == ["python3 dev.py course", "python3 dev.py test"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "grep -m1 -E '^python3 dev\\.py test' README.md" in ci
    assert 'eval "$test_command"' in ci
    assert "torch==2.13.0" in ci
