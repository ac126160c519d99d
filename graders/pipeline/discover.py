"""Find the submissions in an LMS download and tell whose each one is.

Input: a zip, a folder of notebooks (any names), or nbgrader's ``submitted/`` tree. A student
is identified by the first *rule* (a regular expression on the file's path relative to the
input, with a ``student_id`` group and optional ``first_name``, ``last_name``, ``full_name``)
that matches. The default rules know Canvas ("lastname_12345_67890_file.ipynb", "_LATE_"
included), Moodle ("Full Name_12345_assignsubmission_file_/file.ipynb"), nbgrader's
``<student>/<assignment>/file.ipynb``, one folder per student, and finally a bare file name.
Instructors add their own with ``--id-rule`` (tried first).
"""
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_RULES = [
    # Moodle: "Ada Lovelace_12345_assignsubmission_file_/problems.ipynb" (folder or flat)
    r"^(?:.*/)?(?P<full_name>[^/_]+)_(?P<student_id>\d+)_assignsubmission_file_?/?(?P<file>[^/]+)$",
    # Canvas: "lovelace_12345_67890_problems.ipynb", "lovelace_LATE_12345_67890_problems-1.ipynb"
    r"^(?:.*/)?(?P<last_name>[A-Za-z][A-Za-z\-']*)(?:_LATE)?_(?P<student_id>\d+)_\d+_(?P<file>[^/]+)$",
    # nbgrader: "submitted/<student>/<assignment>/problems.ipynb" or "<student>/<assignment>/x.ipynb"
    r"^(?:submitted/)?(?P<student_id>[^/]+)/(?P<assignment>{assignment})/(?P<file>[^/]+)$",
    # one folder per student
    r"^(?:.*/)?(?P<student_id>[^/]+)/(?P<file>[^/]+)$",
    # a bare file: the name is the student
    r"^(?P<student_id>[^/]+?)(?:[_\-. ]+{notebook})?\.ipynb$",
]

_COPY_NOISE = [r"^Copy of ", r"^Kopie von ", r"^Copie de ", r" ?\(\d+\)$", r"-\d+$", r"-checkpoint$"]


@dataclass
class Submission:
    student_id: str
    files: dict = field(default_factory=dict)          # notebook name -> Path
    extra_files: list = field(default_factory=list)     # notebooks not matching a name
    first_name: str = ""
    last_name: str = ""
    origin: str = ""
    notes: list = field(default_factory=list)


def clean_notebook_name(filename):
    """'Copy of problems (1).ipynb' -> 'problems'."""
    stem = Path(filename).stem if filename.endswith(".ipynb") else filename
    changed = True
    while changed:
        changed = False
        for pattern in _COPY_NOISE:
            new = re.sub(pattern, "", stem)
            if new != stem:
                stem, changed = new, True
    return stem.strip()


def safe_id(text):
    cleaned = re.sub(r"[^A-Za-z0-9_.@\-]+", "_", text.strip()).strip("._")
    return cleaned or "unknown"


def extract_zip(path, dest, max_bytes=500 * 1024 * 1024):
    """Unzip safely: no absolute paths or '..', no more than max_bytes in total."""
    dest = Path(dest)
    total = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename
            parts = Path(name).parts
            if name.startswith("/") or ".." in parts or info.is_dir():
                continue
            total += info.file_size
            if total > max_bytes:
                raise ValueError(f"{path}: more than {max_bytes} bytes uncompressed; refusing")
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                out.write(src.read())
            if name.lower().endswith(".zip"):      # a student's own zip inside the LMS zip
                inner = target.with_suffix("")
                inner.mkdir(exist_ok=True)
                try:
                    extract_zip(target, inner, max_bytes - total)
                except (zipfile.BadZipFile, ValueError):
                    pass
    return dest


def _skip(rel):
    parts = rel.split("/")
    return any(p.startswith(".") or p == "__MACOSX" for p in parts) or "-checkpoint" in parts[-1]


def discover(root, notebook_names, assignment="", rules=None):
    """Submissions under root (a folder): [Submission], one per student, and a list of problems."""
    root = Path(root)
    patterns = [re.compile(r.format(assignment=re.escape(assignment) if assignment else "[^/]+",
                                    notebook="|".join(map(re.escape, notebook_names)) or "x"))
                for r in list(rules or []) + DEFAULT_RULES]
    subs, problems = {}, []
    candidates = sorted(p for p in root.rglob("*.ipynb") if p.is_file())
    for path in candidates:
        rel = path.relative_to(root).as_posix()
        if _skip(rel):
            continue
        if rel.startswith("submitted/") is False and (root / "submitted").is_dir():
            continue       # an nbgrader course root: only the submitted tree counts
        for pattern in patterns:
            m = pattern.match(rel)
            if m and m.groupdict().get("student_id"):
                break
        else:
            problems.append(f"{rel}: no rule tells whose file this is; skipped")
            continue
        groups = m.groupdict()
        sid = safe_id(groups["student_id"])
        sub = subs.setdefault(sid, Submission(sid, origin=rel))
        if groups.get("full_name"):
            first, _, last = groups["full_name"].strip().rpartition(" ")
            sub.first_name, sub.last_name = first or sub.first_name, last
        if groups.get("last_name"):
            sub.last_name = sub.last_name or groups["last_name"]
        if groups.get("first_name"):
            sub.first_name = groups["first_name"]
        name = clean_notebook_name(groups.get("file") or path.name)
        target = name if name in notebook_names else None
        if target is None and len(notebook_names) == 1:
            target = notebook_names[0]
            if name != notebook_names[0]:
                sub.notes.append(f"{path.name}: file name differs from {notebook_names[0]}.ipynb; "
                                 "graded as that notebook")
        if target is None:
            sub.extra_files.append(path)
            continue
        if target in sub.files:
            older = sub.files[target]
            keep = max((older, path), key=lambda p: (os.path.getmtime(p), p.name))
            sub.notes.append(f"several files for {target}.ipynb ({older.name}, {path.name}); "
                             f"graded the newest, {keep.name}")
            sub.files[target] = keep
        else:
            sub.files[target] = path
    return sorted(subs.values(), key=lambda s: s.student_id), problems
