"""Turn whatever a student handed in into the notebook nbgrader expects, or say why we cannot.

The released notebook is the template: its locked cells (instructions, setup, visible tests)
are the anchors. A student's cell is matched to a template cell by its nbgrader ``grade_id``
when the metadata survived, otherwise by its locked source text; an alignment (difflib, so
order is respected) pairs anchors, and each answer cell is recovered from the student cells
lying between the anchors around it:

- one cell in the gap: that is the answer (a markdown cell where code was expected is retyped);
- several cells in a gap holding one answer: the answer was split, the cells of the answer's
  own type are joined in order (a markdown note between two halves of a code answer is never
  joined into the code);
- no cell: the answer was deleted, the released stub is used (the answer scores zero);
- the same ``grade_id`` more than once (a duplicated cell): every copy that is not the
  untouched stub is kept, in the student's order, which is what the student last ran;
- cells in a gap without an answer slot are the student's extra cells and still run, in the
  student's order relative to the answers around them.

Tests are never taken from the student: every test cell comes from the *source* notebook
(with its hidden tests), every locked cell from the release. A notebook with too few anchors
is another assignment's (or not a notebook at all) and gets a clear error instead of a grade.
"""
import difflib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path


def _import_nbformat():
    """nbformat, without the seconds its import can cost. nbformat imports jsonschema, which
    imports rfc3987_syntax when that is installed (jupyter_events' dependencies pull it in),
    and rfc3987_syntax compiles some forty Lark grammars at import, for the "iri" string
    formats; no notebook schema uses a string format and nbformat checks none. It is kept out
    only while jsonschema loads, so anything that imports it later still gets it."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import nbformat
        return nbformat
    sys.modules["rfc3987_syntax"] = None        # makes its import fail; jsonschema allows that
    try:
        import nbformat
    finally:
        if sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]
    return nbformat


nbformat = _import_nbformat()


ANCHORS = ("locked", "test", "task")       # cells the student may not change
GRADED = ("test", "manual", "task")        # cells with points


class SubmissionError(Exception):
    """The submission cannot be graded; the message says why, in words for the student."""


@dataclass
class TemplateCell:
    index: int
    kind: str            # locked | answer | test | manual
    cell_type: str
    grade_id: str
    release_source: str
    graded_source: str   # what runs at grading time (tests: the source version with hidden tests)
    metadata: dict
    points: float = 0.0


@dataclass
class Template:
    notebook: str
    cells: list
    release_nb: dict = field(repr=False, default=None)

    @property
    def test_cells(self):
        return [c for c in self.cells if c.kind == "test"]

    @property
    def max_score(self):
        return sum(c.points for c in self.cells if c.kind in GRADED)


def _text(source):
    return "".join(source) if isinstance(source, list) else (source or "")


def normalize(source):
    """Source text compared for identity: whitespace at line ends and blank lines do not count."""
    lines = [line.rstrip() for line in _text(source).replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line.strip())


def _nbgrader(cell):
    meta = cell.get("metadata") or {}
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def load_template(release_path, source_path):
    """The grading template of one notebook from its released and source versions."""
    release = nbformat.read(str(release_path), as_version=4)
    source = nbformat.read(str(source_path), as_version=4)
    source_by_id = {_nbgrader(c).get("grade_id"): c for c in source.cells if _nbgrader(c).get("grade_id")}
    cells = []
    for i, cell in enumerate(release.cells):
        nbg = _nbgrader(cell)
        grade_id = nbg.get("grade_id") or f"cell-{i}"
        if nbg.get("solution"):
            kind = "manual" if nbg.get("grade") else "answer"
        elif nbg.get("grade"):
            kind = "test"
        elif nbg.get("task"):
            kind = "task"               # a locked description graded by hand (nbgrader task cell)
        else:
            kind = "locked"
        graded = _text(cell.source)
        if kind == "test":
            if grade_id not in source_by_id:
                raise ValueError(f"test cell {grade_id} is not in the source notebook {source_path}")
            graded = _text(source_by_id[grade_id].source)
        cells.append(TemplateCell(i, kind, cell.cell_type, grade_id, _text(cell.source), graded,
                                  json.loads(json.dumps(cell.metadata)),
                                  float(nbg.get("points") or 0) if nbg.get("grade") or nbg.get("task")
                                  else 0.0))
    return Template(Path(release_path).stem, cells, release)


# -- reading a file that may not be a valid notebook ------------------------------------------------
def read_notebook(data, notes):
    """Parse bytes into a v4 notebook dict, repairing what can be repaired (logged in notes)."""
    if not data or not data.strip():
        raise SubmissionError("the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        notes.append("removed a byte-order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        notes.append("file was not UTF-8; read as Latin-1")
    raw = _parse_json(text, notes)
    if not isinstance(raw, dict) or not ("cells" in raw or "worksheets" in raw):
        raise SubmissionError("the file is JSON but not a Jupyter notebook (no cells)")
    version = raw.get("nbformat")
    if version is None:
        raw["nbformat"], raw["nbformat_minor"] = (3, 0) if "worksheets" in raw else (4, 4)
        notes.append("added the missing nbformat version")
        version = raw["nbformat"]
    if version != 4:
        try:
            nb = nbformat.reads(json.dumps(raw), as_version=4)
        except Exception as exc:    # noqa: BLE001 - nbformat raises many kinds
            raise SubmissionError(f"could not convert notebook format v{version} to v4: {exc}") from None
        notes.append(f"converted from notebook format v{version}")
        raw = json.loads(nbformat.writes(nb))
    cells = []
    for cell in raw.get("cells", []):
        if not isinstance(cell, dict):
            continue
        cell_type = cell.get("cell_type", "code")
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        cells.append({"cell_type": cell_type if cell_type in ("code", "markdown", "raw") else "raw",
                      "source": _text(cell.get("source", "")), "metadata": meta})
    return {"cells": cells, "metadata": raw.get("metadata") or {}}


def _parse_json(text, notes):
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        error = first
    attempts = [
        ("removed trailing commas", lambda t: re.sub(r",(\s*[}\]])", r"\1", t)),
        ("ignored text after the notebook", lambda t: json.JSONDecoder().raw_decode(t.lstrip())[0]),
        ("allowed control characters in strings", lambda t: json.loads(t, strict=False)),
    ]
    for what, fix in attempts:
        try:
            fixed = fix(text)
            value = json.loads(fixed) if isinstance(fixed, str) else fixed
        except (json.JSONDecodeError, ValueError):
            continue
        notes.append(f"invalid JSON repaired ({what})")
        return value
    raise SubmissionError(f"the file is not valid JSON (line {error.lineno}, column {error.colno}: "
                          f"{error.msg}); re-download it from Jupyter/Colab with File > Download .ipynb")


# -- re-identifying cells ---------------------------------------------------------------------------
def match_score(student, template):
    """How many of the template's locked/test cells and grade ids this student notebook has."""
    locked = {normalize(c.release_source) for c in template.cells if c.kind in ANCHORS}
    ids = {c.grade_id for c in template.cells}
    hits = 0
    for cell in student["cells"]:
        if normalize(cell["source"]) in locked or _nbgrader(cell).get("grade_id") in ids:
            hits += 1
    return hits / max(1, len(locked))


def repair(student, template, notes):
    """The notebook to grade: template cells with the student's answers and extra cells."""
    if match_score(student, template) < 0.3:
        raise SubmissionError(
            f"this notebook does not look like {template.notebook}.ipynb of this assignment "
            "(too few of its instruction and test cells were found)")
    by_locked_text = {}
    for t in template.cells:
        if t.kind in ANCHORS:
            by_locked_text.setdefault(normalize(t.release_source), t.index)
    ids = {t.grade_id: t for t in template.cells}
    answer_kinds = ("answer", "manual")

    def key(cell, i):
        gid = _nbgrader(cell).get("grade_id")
        if gid in ids and ids[gid].kind not in answer_kinds:
            return f"T{ids[gid].index}"
        text = normalize(cell["source"])
        if text in by_locked_text:
            return f"T{by_locked_text[text]}"
        return f"S{i}"

    tkeys = [f"T{t.index}" for t in template.cells]
    skeys = [key(c, i) for i, c in enumerate(student["cells"])]
    matcher = difflib.SequenceMatcher(None, tkeys, skeys, autojunk=False)
    anchor = {}                     # template index -> student index
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            anchor[block.a + k] = block.b + k
    used = set(anchor.values())

    # answers found by grade_id (metadata survived), possibly duplicated
    by_id = {}
    for i, cell in enumerate(student["cells"]):
        gid = _nbgrader(cell).get("grade_id")
        if gid in ids and ids[gid].kind in answer_kinds and i not in used:
            by_id.setdefault(gid, []).append(i)
    answers, extras = {}, {}        # grade_id -> source; where -> [student cells]
    answer_at = {}                  # student index -> grade id of the answer it holds
    for gid, idxs in by_id.items():
        stub = normalize(ids[gid].release_source)
        kept = [i for i in idxs if normalize(student["cells"][i]["source"]) != stub] or idxs[-1:]
        if len(idxs) > 1:
            notes.append(f"{gid}: cell appears {len(idxs)} times; kept {len(kept)} edited "
                         "cop{} in order".format("y" if len(kept) == 1 else "ies"))
        answers[gid] = "\n\n".join(student["cells"][i]["source"] for i in kept)
        _retyped(student, kept, ids[gid], notes)
        used.update(idxs)
        answer_at.update({i: gid for i in idxs})

    # gaps between anchors: recover answers without metadata, collect extra cells
    anchored = sorted(anchor)
    bounds = [(-1, -1)] + [(t, anchor[t]) for t in anchored] + [(len(tkeys), len(skeys))]
    for (t0, s0), (t1, s1) in zip(bounds, bounds[1:]):
        slots = [t for t in template.cells[t0 + 1:t1] if t.kind in answer_kinds and t.grade_id not in answers]
        free = [i for i in range(s0 + 1, s1) if i not in used
                and (student["cells"][i]["source"].strip())]
        if slots and free:
            if len(slots) == 1:
                gid = slots[0].grade_id
                # Cells of the answer's own type make the answer: a markdown note between two
                # halves of a code answer is never joined into the code (and the other way).
                same = [i for i in free if student["cells"][i]["cell_type"] == slots[0].cell_type]
                parts = same or free
                answers[gid] = "\n\n".join(student["cells"][i]["source"] for i in parts)
                if len(parts) > 1:
                    notes.append(f"{gid}: answer was split over {len(parts)} cells; joined them")
                else:
                    notes.append(f"{gid}: answer cell re-identified by its position (no metadata)")
                if len(parts) < len(free):
                    notes.append(f"{gid}: left out {len(free) - len(parts)} "
                                 f"{'markdown' if slots[0].cell_type == 'code' else 'code'} "
                                 "cell(s) between its parts")
                _retyped(student, parts, slots[0], notes)
            elif len(slots) == len(free):
                for slot, i in zip(slots, free):
                    answers[slot.grade_id] = student["cells"][i]["source"]
                    _retyped(student, [i], slot, notes)
                notes.append(", ".join(s.grade_id for s in slots) + ": re-identified by position")
            else:
                notes.append(", ".join(s.grade_id for s in slots) + f": {len(free)} unlabelled cells "
                             "for these answers, cannot tell which is which; not graded")
            used.update(free)
        elif free:
            # An extra cell runs where the student had it: before the first answer that
            # followed it in the same gap, or else at the end of the gap.
            gap_end = max([t0] + [t.index for t in template.cells[t0 + 1:t1]])
            for i in free:
                if student["cells"][i]["cell_type"] != "code":
                    continue
                later = [answer_at[j] for j in sorted(answer_at) if i < j < s1]
                where = ("before", later[0]) if later else gap_end
                extras.setdefault(where, []).append(student["cells"][i])
    for t in template.cells:
        if t.kind in answer_kinds and t.grade_id not in answers:
            notes.append(f"{t.grade_id}: answer cell missing (deleted?); graded as unanswered")
    return build_notebook(template, answers, extras, student.get("metadata", {}))


def _retyped(student, idxs, slot, notes):
    types = {student["cells"][i]["cell_type"] for i in idxs}
    if types != {slot.cell_type}:
        notes.append(f"{slot.grade_id}: cell type changed to {'/'.join(sorted(types))}; "
                     f"graded as {slot.cell_type}")


def build_notebook(template, answers, extras, student_meta=None):
    """The notebook that is executed: release cells, source tests, the student's answers."""
    cells = []
    for cell in extras.get(-1, []):
        cells.append(_extra(cell))
    for t in template.cells:
        meta = json.loads(json.dumps(t.metadata))
        meta["autograde"] = {"kind": t.kind, "grade_id": t.grade_id}
        if t.kind in ("answer", "manual"):
            source = answers.get(t.grade_id, t.release_source)
        elif t.kind == "test":
            source = t.graded_source
        else:
            source = t.release_source
        for cell in extras.get(("before", t.grade_id), []):
            cells.append(_extra(cell))
        if t.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(source, metadata=meta))
        elif t.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(source, metadata=meta))
        else:
            cells.append(nbformat.v4.new_raw_cell(source, metadata=meta))
        for cell in extras.get(t.index, []):
            cells.append(_extra(cell))
    nb = nbformat.v4.new_notebook(cells=cells, metadata=json.loads(json.dumps(template.release_nb.metadata)))
    return nb


def _extra(cell):
    return nbformat.v4.new_code_cell(cell["source"], metadata={"autograde": {"kind": "extra", "grade_id": ""}})
