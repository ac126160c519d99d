"""Find the submissions in an LMS download and tell whose each one is.

Input: a zip, a folder of notebooks (any names), or nbgrader's ``submitted/`` tree. A student
is identified by the first *rule* (a regular expression on the file's path relative to the
input, with a ``student_id`` group and optional ``first_name``, ``last_name``, ``full_name``)
that matches. The default rules know Canvas ("lastname_12345_67890_file.ipynb", "_LATE_"
included), Moodle ("Full Name_12345_assignsubmission_file_/file.ipynb"), nbgrader's
``<student>/<assignment>/file.ipynb``, one folder per student, and finally a bare file name
that holds a name besides the notebook's ("ada_autodiff.ipynb"). A file none of them can
place (a bare "Copy of autodiff.ipynb") is reported, never given an invented id. Instructors
add their own rules with ``--id-rule`` (tried first).

A zip inside the download (a student zipped their folder) counts as its outer entry: the id
comes from the zip's own name, the notebook from inside it.

When one student has several files, the one graded is chosen by the download's own evidence,
in this order: a file with the assignment's notebook name over any other, then the notebook
that looks most like the assignment, then the latest attempt (Canvas numbers a resubmission
``problems-1.ipynb``, ``problems-2.ipynb``, and its later submissions get larger ids), then the
latest time the LMS stored in the zip. The choice and the files skipped are noted.
"""
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_RULES = [
    # Moodle: "Ada Lovelace_12345_assignsubmission_file_/problems.ipynb" (folder or flat)
    r"^(?:.*/)?(?P<full_name>[^/_]+)_(?P<student_id>\d+)_assignsubmission_file_?/?(?:.*/)?(?P<file>[^/]+)$",
    # Canvas: "lovelace_12345_67890_problems.ipynb", "lovelace_LATE_12345_67890_problems-1.ipynb"
    r"^(?:.*/)?(?P<last_name>[A-Za-z][A-Za-z\-']*)(?:_LATE)?_(?P<student_id>\d+)_(?P<submission>\d+)_(?P<file>[^/]+)$",
    # nbgrader: "submitted/<student>/<assignment>/problems.ipynb" or "<student>/<assignment>/x.ipynb"
    r"^(?:submitted/)?(?P<student_id>[^/]+)/(?P<assignment>{assignment})/(?P<file>[^/]+)$",
    # one folder per student
    r"^(?:.*/)?(?P<student_id>[^/]+)/(?P<file>[^/]+)$",
    # a bare file: the name besides the notebook's is the student
    r"^(?P<bare>[^/]+)\.ipynb$",
]

_COPY_NOISE = [r"^Copy of ", r"^Kopie von ", r"^Copie de ", r"^Copia de ", r" ?\(\d+\)$",
               r"-\d+$", r"-checkpoint$"]
_ATTEMPT = re.compile(r"-(\d+)$")
MAX_BYTES = 500 * 1024 * 1024


class InputError(Exception):
    """The input cannot be read as submissions; the message says what to do."""


@dataclass
class Candidate:
    path: Path
    rel: str
    name: str                 # the notebook name once LMS and Colab noise is removed
    attempt: int = 0
    submission: int = 0

    def when(self):
        return os.path.getmtime(self.path)


@dataclass
class Submission:
    student_id: str
    files: dict = field(default_factory=dict)          # notebook name -> Path
    extra_files: list = field(default_factory=list)     # notebooks not graded
    first_name: str = ""
    last_name: str = ""
    origin: str = ""
    notes: list = field(default_factory=list)
    candidates: list = field(default_factory=list)


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


def _attempt(filename):
    m = _ATTEMPT.search(Path(filename).stem)
    return int(m.group(1)) if m else 0


def safe_id(text):
    cleaned = re.sub(r"[^A-Za-z0-9_.@\-]+", "_", text.strip()).strip("._")
    return cleaned


# -- reading the download ---------------------------------------------------------------------------
def extract_zip(path, dest, max_bytes=MAX_BYTES, _outer=None):
    """Unzip safely (no absolute paths or '..', at most max_bytes in all), keeping each entry's
    time as its file's modification time. Returns {folder of a nested zip: the outer entry's
    relative name}, so its files can be placed by the outer name."""
    dest = Path(dest)
    nested = {}
    total = 0
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(f"{path} is not a zip file (or it is damaged); download it again "
                         "from the LMS") from None
    with zf:
        try:
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{path} is damaged ({exc}); download it again") from None
        for info in infos:
            name = info.filename
            parts = Path(name).parts
            if name.startswith("/") or ".." in parts or info.is_dir():
                continue
            total += info.file_size
            if total > max_bytes:
                raise InputError(f"{path}: more than {max_bytes} bytes uncompressed; refusing")
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    out.write(src.read())
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InputError(f"{path} is damaged: {name} cannot be read ({exc}); "
                                 "download it again from the LMS") from None
            stamp = time.mktime(info.date_time + (0, 0, -1))
            os.utime(target, (stamp, stamp))
            if name.lower().endswith(".zip"):      # a student's own zip inside the LMS zip
                inner = target.with_suffix("")
                inner.mkdir(exist_ok=True)
                try:
                    nested[inner] = _outer or name
                    nested.update(extract_zip(target, inner, max_bytes - total, _outer or name))
                except InputError:
                    nested.pop(inner, None)
                target.unlink()
    return nested


def _skip(rel):
    parts = rel.split("/")
    return any(p.startswith(".") or p == "__MACOSX" for p in parts) or "-checkpoint" in parts[-1]


def _place(rel, patterns, notebook_names):
    """(groups, problem) for a file's relative path: the first rule that names a student."""
    for pattern in patterns:
        m = pattern.match(rel)
        if not m:
            continue
        groups = m.groupdict()
        if groups.get("bare") is not None:
            sid = _bare_id(groups["bare"], notebook_names)
            if not sid:
                return None, (f"{rel}: the file's name says only which notebook it is, not whose; "
                              "rename it to the student's id or give an --id-rule; skipped")
            groups = {"student_id": sid, "file": rel}
        if groups.get("student_id") and safe_id(groups["student_id"]):
            return groups, None
    return None, f"{rel}: no rule tells whose file this is; skipped"


def _bare_id(stem, notebook_names):
    """The student's part of a bare file name, or '' when it holds only the notebook's name."""
    cleaned = clean_notebook_name(stem + ".ipynb")
    for name in sorted(notebook_names, key=len, reverse=True):
        cleaned = re.sub(rf"(?:^|[_\-. ]+){re.escape(name)}$", "", cleaned)
    cleaned = cleaned.strip(" _-.")
    return "" if not cleaned or cleaned in notebook_names else cleaned


def discover(root, notebook_names, assignment="", rules=None, nested=None, resemblance=None):
    """Submissions under root (a folder): [Submission], one per student, and a list of problems.

    ``nested`` maps folders extracted from zips inside the download to their outer entries;
    ``resemblance(path, notebook) -> float`` says how much a file looks like a notebook of the
    assignment (0 to 1), to choose between a student's files."""
    root = Path(root)
    nested = {Path(k): v for k, v in (nested or {}).items()}
    patterns = [re.compile(r.format(assignment=re.escape(assignment) if assignment else "[^/]+",
                                    notebook="|".join(map(re.escape, notebook_names)) or "x"))
                for r in list(rules or []) + DEFAULT_RULES]
    subs, problems = {}, []
    nbgrader_root = (root / "submitted").is_dir()
    for path in sorted(p for p in root.rglob("*.ipynb") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if _skip(rel):
            continue
        if nbgrader_root and not rel.startswith("submitted/"):
            continue       # an nbgrader course root: only the submitted tree counts
        placed_as, inner = rel, None
        for folder, outer in nested.items():
            if folder in path.parents:      # a zip inside the download: place it by its name
                placed_as, inner = str(Path(outer).with_suffix(".ipynb").as_posix()), path.name
                break
        groups, problem = _place(placed_as, patterns, notebook_names)
        if groups is None:
            problems.append(problem if inner is None else f"{rel} (from {outer}): " +
                            problem.split(": ", 1)[1])
            continue
        if inner is not None:
            groups = dict(groups, file=inner)
        sid = safe_id(groups["student_id"])
        sub = subs.setdefault(sid, Submission(sid, origin=rel))
        if groups.get("full_name"):
            first, _, last = groups["full_name"].strip().rpartition(" ")
            sub.first_name, sub.last_name = first or sub.first_name, last
        if groups.get("last_name"):
            sub.last_name = sub.last_name or groups["last_name"]
        if groups.get("first_name"):
            sub.first_name = groups["first_name"]
        filename = Path(groups.get("file") or path.name).name
        sub.candidates.append(Candidate(path, rel, clean_notebook_name(filename), _attempt(filename),
                                        int(groups.get("submission") or 0)))
    for sub in subs.values():
        _choose(sub, notebook_names, resemblance)
    return sorted(subs.values(), key=lambda s: s.student_id), problems


def _choose(sub, notebook_names, resemblance):
    """Which of a student's files is graded as each of the assignment's notebooks."""
    remaining = list(sub.candidates)
    for notebook in notebook_names:
        exact = [c for c in remaining if c.name == notebook]
        pool = exact or [c for c in remaining if c.name not in notebook_names]
        if not pool:
            continue
        by_looks = not exact and resemblance is not None
        looks = {id(c): resemblance(c.path, notebook) for c in pool} if by_looks else {}
        best = max(pool, key=lambda c: (looks.get(id(c), 0.0), c.attempt, c.submission, c.when(),
                                        c.rel))
        sub.files[notebook] = best.path
        if best.name != notebook:
            sub.notes.append(f"{Path(best.rel).name}: file name differs from {notebook}.ipynb; "
                             "graded as that notebook")
        skipped = [c for c in (remaining if exact else pool) if c is not best and
                   (c.name not in notebook_names or c.name == notebook)]
        if skipped:
            reasons = []
            if exact and any(c.name != notebook for c in skipped):
                reasons.append("it has the assignment's name")
            if by_looks:
                reasons.append("it looks most like the assignment")
            if len(pool) > 1:
                reasons.append("the latest attempt")
            sub.notes.append(f"graded {Path(best.rel).name} as {notebook}.ipynb ("
                             + ", then ".join(reasons) + "); skipped "
                             + ", ".join(Path(c.rel).name for c in skipped))
        remaining = [c for c in remaining if c is not best and c not in skipped]
    sub.extra_files = [c.path for c in remaining]
