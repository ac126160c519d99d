"""What a student's install holds: the library, the visible checks and the self-check, and no
answer key.

The course notebook's first cell installs the project on Colab with pip from the repository.
This test does the same from this checkout into a fresh virtual environment, then reads every
file pip installed, looking for the hidden tests' seeds and the names of the instructor's
reference solutions and hidden checks (course/autodiff_instructor).
"""
import ast
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTOR = ROOT / "course" / "autodiff_instructor"
sys.path.insert(0, str(ROOT / "course"))
from autodiff_instructor.seeds import DEFAULT_SEEDS  # noqa: E402


def _defined_names(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("student")
    checkout = base / "checkout"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", ".pytest_cache", ".hypothesis"))
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # pip of this environment installs into the fresh one, as `pip install "<project> @ git+..."`
    # does on Colab: a regular (not editable) install of the project, without its dependencies.
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "--target", purelib, str(checkout)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = [p for p in Path(purelib).rglob("*") if p.is_file()]
    return {"purelib": Path(purelib), "files": files}


def test_the_install_has_the_library_the_visible_checks_and_the_self_check(installed):
    top = {p.relative_to(installed["purelib"]).parts[0] for p in installed["files"]}
    assert {"autograd_lite", "graders"} <= top
    names = {p.relative_to(installed["purelib"]).as_posix() for p in installed["files"]}
    assert {"graders/checks.py", "graders/selfcheck.py", "graders/visible_cases.json",
            "graders/families.py"} <= names
    assert not any("autodiff_instructor" in n or n.startswith("course/") for n in names)


def test_no_installed_file_holds_a_seed_or_a_reference_solution(installed):
    seeds = [str(s) for s in DEFAULT_SEEDS.values()]
    secret_names = set()
    for module in INSTRUCTOR.glob("*.py"):
        secret_names |= {n for n in _defined_names(module) if len(n) > 3}
    # names the public modules also define on purpose (the public judging of every question)
    public = set()
    for path in installed["files"]:
        if path.suffix == ".py":
            public |= _defined_names(path)
    distinctive = {"control_factor", "random_graph", "F_GRAPH", "second_backward_exception",
                   "DEFAULT_SEEDS", "HideHiddenTestDetails"}
    assert distinctive <= secret_names
    found = []
    for path in installed["files"]:
        text = path.read_bytes().decode("utf-8", "replace")
        found += [(path.name, s) for s in seeds if re.search(rf"(?<![0-9]){s}(?![0-9])", text)]
        found += [(path.name, n) for n in distinctive if n in text]
        if path.suffix == ".py":
            found += [(path.name, n) for n in _defined_names(path) & (secret_names - public)]
    assert not found, found
    assert secret_names - public, "the instructor's modules define names of their own"


def test_the_visible_checks_run_from_the_install_and_the_key_is_not_there(installed, tmp_path):
    script = f"""
import sys
sys.path.insert(0, {str(installed['purelib'])!r})
import graders.checks as checks
assert checks.__file__.startswith({str(installed['purelib'])!r}), checks.__file__
cases = checks.visible_cases()
assert sorted(cases) == ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]
def control_flow_grad(a):
    return 0 * a
try:
    checks.q3_visible(control_flow_grad, control_flow_grad)
except checks.CheckFailed as exc:
    assert "expected" in str(exc)
try:
    import autodiff_instructor
except ImportError:
    print("no answer key")
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no answer key" in proc.stdout
