"""The battery of broken and hostile submissions for the demo course, each with its expected score.

The demo course (graders.pipeline.demo_course) has 6 automatic points: q1 = 1 visible + 2
hidden, q2 = 3; q3 is graded by hand. Its tests are plain ``assert`` cells, which run in the
student's process as under nbgrader: this battery checks what holds for any nbgrader course
(repairs, crashes, limits, the sandbox's walls). Tricks against the checks themselves are in
``autodiff_battery.py``, on the course whose checks run on the grader's side. ``write_battery(course, folder, ctx)`` writes every case
under an LMS-style name into ``folder`` and returns {student_id: (expected_total, expected
text in the log line or None)}. ``ctx`` carries paths and a port the hostile cases aim at.
"""
import copy
import json

import nbformat

from graders.pipeline.demo_course import CORRECT, student_notebook

OK1, OK2 = CORRECT["q1_answer"], CORRECT["q2_answer"]


def _nb(course, answers=None):
    return student_notebook(course, answers)


def _write(folder, name, nb_or_bytes):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_bytes, bytes):
        path.write_bytes(nb_or_bytes)
    else:
        path.write_text(nbformat.writes(nb_or_bytes))


def _cells_without_metadata(nb):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata = {}
    return nb


def _index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def cases(course, ctx):
    """(file name relative to the LMS folder, content, expected total, expected log text)."""
    good = _nb(course, CORRECT)
    out = []
    add = lambda name, content, total, text=None: out.append((name, content, total, text))  # noqa: E731

    add("lovelace_1001_555_problems.ipynb", good, 6)                      # Canvas name
    add("Grace Hopper_2002_assignsubmission_file_/Copy of problems.ipynb", good, 6)   # Moodle + Colab
    add("babbage_1003_556_problems.ipynb", _nb(course), 0)                 # untouched release
    add("hardcoder_1004_557_problems.ipynb",
        _nb(course, {"q1_answer": "def square(x):\n    return 9", "q2_answer": OK2}), 4)
    text = nbformat.writes(good)
    add("comma_1005_558_problems.ipynb", text.rstrip()[:-1].rstrip() + ",\n}\n", 6, "invalid JSON repaired")
    add("truncated_1006_559_problems.ipynb", text[: len(text) // 2].encode(), 0, "not valid JSON")
    add("empty_1007_560_problems.ipynb", b"", 0, "empty")
    v3 = nbformat.writes(_cells_without_metadata(good), version=3)
    assert json.loads(v3)["nbformat"] == 3
    add("oldformat_1008_561_problems.ipynb", v3.encode(), 6, "converted from notebook format v3")
    add("colab_1009_562_problems.ipynb", _cells_without_metadata(good), 6, "re-identified by its position")
    deleted = copy.deepcopy(good)
    del deleted.cells[_index(deleted, "q2_answer")]
    add("deleter_1010_563_problems.ipynb", deleted, 3, "q2_answer: answer cell missing")
    dup = _nb(course, {"q2_answer": OK2})
    i = _index(dup, "q1_answer")
    twin = copy.deepcopy(dup.cells[i])
    twin.source, twin.id = OK1, "twin0001"
    dup.cells.insert(i + 1, twin)
    add("duplicator_1011_564_problems.ipynb", dup, 6, "appears 2 times")
    split = _cells_without_metadata(good)
    i = next(k for k, c in enumerate(split.cells) if c.source.startswith("def normalize"))
    split.cells[i].source = "def _len(v):\n    return np.sqrt((np.asarray(v, dtype=float) ** 2).sum())"
    split.cells.insert(i + 1, nbformat.v4.new_code_cell(
        "def normalize(v):\n    return np.asarray(v, dtype=float) / _len(v)"))
    add("splitter_1012_565_problems.ipynb", split, 6, "split over 2 cells")
    retyped = _cells_without_metadata(good)
    i = next(k for k, c in enumerate(retyped.cells) if c.source.startswith("def square"))
    retyped.cells[i] = nbformat.v4.new_markdown_cell(OK1)
    add("retyper_1013_566_problems.ipynb", retyped, 6, "cell type changed to markdown")
    extra = _nb(course, {"q1_answer": OK1, "q2_answer": "def normalize(v):\n    return helper(v)"})
    extra.cells.insert(_index(extra, "q2_answer"), nbformat.v4.new_code_cell(
        "def helper(v):\n    v = np.asarray(v, dtype=float)\n    return v / np.linalg.norm(v)"))
    add("helper_1014_567_problems.ipynb", extra, 6)
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lab 7"),
                                            nbformat.v4.new_code_cell("def square(x):\n    return x * x")])
    add("wrongfile_1015_568_problems.ipynb", other, 0, "does not look like")

    # -- hostile ---------------------------------------------------------------------------------
    def hostile(name, q1=OK1, q2=OK2, total=6, text=None):
        add(name, _nb(course, {"q1_answer": q1, "q2_answer": q2}), total, text)

    hostile("fakeprint_3004_603_problems.ipynb",
            q1="def square(x):\n    print('q1 visible passed')\n    print('All tests passed!')\n    return -1",
            total=3)
    hostile("exiter_3007_606_problems.ipynb", q1="import os\nos._exit(1)\ndef square(x):\n    return x * x",
            total=3, text="kernel died")
    hostile("segfault_3008_607_problems.ipynb",
            q1="import ctypes\ndef square(x):\n    ctypes.string_at(0)\n    return x * x", total=3,
            text="kernel died")
    hostile("killer_3009_608_problems.ipynb",
            q2="import os, signal\ndef normalize(v):\n    os.kill(os.getpid(), signal.SIGKILL)", total=3,
            text="kernel died")
    hostile("looper_3010_609_problems.ipynb", q1="def square(x):\n    while True:\n        pass", total=3,
            text="longer than")
    hostile("membomb_3011_610_problems.ipynb",
            q1=OK1 + "\ntry:\n    hog = bytearray(8 * 1024 ** 3)\nexcept MemoryError:\n    pass", total=6)
    hostile("stdin_3012_611_problems.ipynb", q1=OK1 + "\nname = input('your name? ')", total=6)
    # nbgrader scores a test cell that wrote to stderr as failed, and so does the pipeline
    hostile("warner_3013_612_problems.ipynb",
            q1="import warnings, sys\ndef square(x):\n    warnings.warn('float precision')\n"
               "    print('debug', file=sys.stderr)\n    return x * x", total=3)
    leak_paths = [ctx["source_notebook"], ctx["gradebook"], ctx["other_submission"]]
    hostile("snoop_3014_613_problems.ipynb",
            q1=f"leaks = []\nfor p in {leak_paths!r}:\n    try:\n        open(p, 'rb').read(1)\n"
               "        leaks.append(p)\n    except OSError:\n        pass\n"
               f"try:\n    open({ctx['results_dir'] + '/1001.json'!r}, 'w').write('{{}}')\n"
               "    leaks.append('write')\nexcept OSError:\n    pass\n"
               "def square(x):\n    return x * x if leaks else 0", total=3)
    hostile("network_3015_614_problems.ipynb",
            q1="import socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=3).close()\n"
               "    online = True\nexcept OSError:\n    online = False\n"
               "def square(x):\n    return 0 if online else x * x" % ctx["port"], total=6)
    hostile("forkbomb_3016_615_problems.ipynb",
            q1=OK1 + "\nimport os\nkids = 0\ntry:\n    for _ in range(500):\n        if os.fork() == 0:\n"
               "            import time; time.sleep(30); os._exit(0)\n        kids += 1\nexcept OSError:\n    pass",
            total=6)
    return out


def write_battery(course, folder, ctx):
    expected = {}
    for name, content, total, text in cases(course, ctx):
        if isinstance(content, str):
            content = content.encode()
        _write(folder, name, content)
        expected[name.split("_")[1]] = (total, text)
    return expected
