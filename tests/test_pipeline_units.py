"""Fast checks of the pipeline's pieces: student identification, notebook reading, cell repair."""
import json

import nbformat
import pytest

from graders.pipeline import discover, repair
from graders.pipeline.demo_course import CORRECT, make_course, student_notebook


def test_canvas_moodle_nbgrader_and_copy_of_names_identify_students(tmp_path):
    files = ["lovelace_1001_555_problems.ipynb", "hopper_LATE_1002_556_problems-1.ipynb",
             "Grace Hopper_2002_assignsubmission_file_/Copy of problems (1).ipynb",
             "Alan Turing_2003_assignsubmission_file_problems.ipynb", "ada/problems.ipynb",
             "__MACOSX/._x.ipynb", "notes.txt"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    subs, problems = discover.discover(tmp_path, ["problems"], "ps1")
    found = {s.student_id: s for s in subs}
    assert set(found) == {"1001", "1002", "2002", "2003", "ada"}
    assert (found["2002"].first_name, found["2002"].last_name) == ("Grace", "Hopper")
    assert found["1001"].last_name == "lovelace"
    assert all(list(s.files) == ["problems"] for s in subs)
    assert problems == []


def test_custom_id_rule_is_tried_first(tmp_path):
    (tmp_path / "HW1-s123456.ipynb").write_text("{}")
    subs, _ = discover.discover(tmp_path, ["problems"], "ps1", rules=[r"^HW1-(?P<student_id>s\d+)\.ipynb$"])
    assert [s.student_id for s in subs] == ["s123456"]


def test_nbgrader_submitted_tree(tmp_path):
    (tmp_path / "submitted" / "bob" / "ps1").mkdir(parents=True)
    (tmp_path / "submitted" / "bob" / "ps1" / "problems.ipynb").write_text("{}")
    (tmp_path / "source" / "ps1").mkdir(parents=True)
    (tmp_path / "source" / "ps1" / "problems.ipynb").write_text("{}")
    subs, _ = discover.discover(tmp_path, ["problems"], "ps1")
    assert [s.student_id for s in subs] == ["bob"]


def test_zip_extraction_refuses_path_traversal(tmp_path):
    import zipfile
    z = tmp_path / "canvas.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../evil.ipynb", "{}")
        zf.writestr("lovelace_1001_555_problems.ipynb", "{}")
    dest = tmp_path / "x"
    dest.mkdir()
    discover.extract_zip(z, dest)
    assert not (tmp_path / "evil.ipynb").exists()
    assert (dest / "lovelace_1001_555_problems.ipynb").exists()


@pytest.mark.parametrize("data, message", [(b"", "empty"), (b"   \n", "empty"), (b'{"cells": [', "not valid JSON"),
                                           (b"[1, 2]", "not a Jupyter notebook")])
def test_unreadable_files_get_a_clear_error(data, message):
    with pytest.raises(repair.SubmissionError, match=message):
        repair.read_notebook(data, [])


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course"))
    return course, repair.load_template(course / "release" / "ps1" / "problems.ipynb",
                                        course / "source" / "ps1" / "problems.ipynb")


def _answers(nb):
    return {c.metadata["autograde"]["grade_id"]: c.source for c in nb.cells
            if c.metadata["autograde"]["kind"] in ("answer", "manual")}


def _tests(nb):
    return [c.source for c in nb.cells if c.metadata["autograde"]["kind"] == "test"]


def test_tests_come_from_the_source_even_when_the_student_edited_them(template):
    course, tpl = template
    nb = student_notebook(course, CORRECT)
    for cell in nb.cells:
        if cell.metadata["nbgrader"].get("grade"):
            cell.source = "pass"
    notes = []
    fixed = repair.repair(repair.read_notebook(nbformat.writes(nb).encode(), notes), tpl, notes)
    assert any("BEGIN HIDDEN TESTS" in t for t in _tests(fixed))
    assert "pass" not in _tests(fixed)
    assert _answers(fixed)["q1_answer"] == CORRECT["q1_answer"]


def test_ambiguous_unlabelled_cells_are_not_guessed(template):
    course, tpl = template
    nb = json.loads(nbformat.writes(student_notebook(course, CORRECT)))
    for cell in nb["cells"]:
        cell["metadata"] = {}
    # without metadata, a deleted q1 answer leaves its gap empty: the stub is graded, not a guess
    q1 = next(c for c in nb["cells"] if "".join(c["source"]).startswith("def square"))
    nb["cells"].remove(q1)
    notes = []
    fixed = repair.repair(repair.read_notebook(json.dumps(nb).encode(), []), tpl, notes)
    assert "raise NotImplementedError" in _answers(fixed)["q1_answer"]
    assert any("q1_answer: answer cell missing" in n for n in notes)


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _grade_cells(work):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:
        return sorted((nb.name, c.name, c.max_score) for nb in gb.find_assignment("ps1").notebooks
                      for c in nb.grade_cells)


def test_a_second_course_copy_reuses_the_generated_release_until_the_source_changes(tmp_path,
                                                                                   monkeypatch):
    import subprocess
    from graders.pipeline import grade
    monkeypatch.setenv("AUTOGRADE_CACHE", str(tmp_path / "cache"))
    root = make_course(tmp_path / "course", generate=False)
    first = grade.prepare_course(root, "ps1", tmp_path / "first")
    # from here on nbgrader "fails", so any run of it shows as an error
    runs = []
    monkeypatch.setattr(grade.subprocess, "run", lambda *a, **k: runs.append(a) or
                        subprocess.CompletedProcess(a, 1, "", "nbgrader was run"))
    second = grade.prepare_course(root, "ps1", tmp_path / "second")
    assert runs == []
    assert _tree(second / "release") == _tree(first / "release")
    assert _grade_cells(second) == _grade_cells(first) != []
    assert str(second) in (second / "nbgrader_config.py").read_text()   # its own root, still
    # the cache is the user's alone: it holds the gradebook, with the solutions and hidden tests
    assert (tmp_path / "cache").stat().st_mode & 0o077 == 0
    # a changed source is a different release, generated anew
    source = root / "source" / "ps1" / "problems.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("One more note."))
    nbformat.write(nb, source)
    with pytest.raises(SystemExit, match="nbgrader was run"):
        grade.prepare_course(root, "ps1", tmp_path / "third")
    # and with the cache off, nothing is read from it
    nbformat.write(nbformat.read(first / "source" / "ps1" / "problems.ipynb", as_version=4), source)
    assert grade.prepare_course(root, "ps1", tmp_path / "fourth") and len(runs) == 1
    monkeypatch.setenv("AUTOGRADE_CACHE", "off")
    with pytest.raises(SystemExit, match="nbgrader was run"):
        grade.prepare_course(root, "ps1", tmp_path / "fifth")
