"""What the instructor and the students get: grades CSV, feedback pages, class summary, Gradescope JSON.

Feedback is built from the recorded verdicts only (test name, points, pass/fail, the check's
message and what the test printed), never from cell sources: hidden test code and solutions
cannot leak into it.
"""
import csv
import html
import json
import re
from pathlib import Path

from .grade import score_of

NBGRADER_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                    "email", "raw_score", "late_submission_penalty", "score", "max_score"]


def question_of(grade_id, pattern=r"^(q\d+)"):
    m = re.match(pattern, grade_id, re.IGNORECASE)
    return m.group(1).lower() if m else grade_id


def _cells(res):
    for name, nb in res["notebooks"].items():
        for cell in nb["cells"]:
            yield name, cell


def questions(results, pattern):
    seen = []
    for res in results.values():
        for _, cell in _cells(res):
            q = question_of(cell["grade_id"], pattern)
            if q not in seen:
                seen.append(q)
    return seen


def per_question(res, pattern):
    out = {}
    for _, cell in _cells(res):
        q = question_of(cell["grade_id"], pattern)
        score, points = out.get(q, (0.0, 0.0))
        out[q] = (score + (cell["score"] or 0.0), points + cell["points"])
    return out


def write_csv(results, assignment, path, pattern=r"^(q\d+)"):
    """nbgrader export's columns (same order and meaning), then one column per question."""
    qs = questions(results, pattern)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(NBGRADER_COLUMNS + qs + ["needs_manual_grading", "problems"])
        for sid in sorted(results):
            res = results[sid]
            pq = per_question(res, pattern)
            max_score = sum(p for _, p in pq.values())
            total = score_of(res)
            manual = sum(1 for _, c in _cells(res) if c["score"] is None)
            problems = "; ".join(f"{n}: {nb['error']}" for n, nb in res["notebooks"].items() if nb["error"])
            writer.writerow([assignment, "", "", sid, res.get("last_name", ""), res.get("first_name", ""),
                             "", f"{total:.1f}", "0.0", f"{total:.1f}", f"{max_score:.1f}"]
                            + [f"{pq.get(q, (0.0, 0.0))[0]:g}" for q in qs] + [manual, problems])


def feedback_html(res, assignment, pattern=r"^(q\d+)"):
    esc = html.escape
    pq = per_question(res, pattern)
    total = score_of(res)
    max_score = sum(p for _, p in pq.values())
    rows = []
    for name, cell in _cells(res):
        status = cell["status"]
        colour = {"passed": "#1a7f37", "partial": "#9a6700", "needs manual grading": "#0969da"}.get(status, "#cf222e")
        score = "pending" if cell["score"] is None else f"{cell['score']:g}"
        detail = esc(cell["message"] or "")
        if cell.get("output"):
            detail += f"<pre>{esc(cell['output'])}</pre>"
        rows.append(f"<tr><td>{esc(question_of(cell['grade_id'], pattern))}</td><td>{esc(cell['grade_id'])}</td>"
                    f"<td style='color:{colour}'>{esc(status)}</td><td>{score} / {cell['points']:g}</td>"
                    f"<td>{detail}</td></tr>")
    notes = [*res.get("notes", []), *res.get("events", []),
             *(f"{n}: {nb['error']}" for n, nb in res["notebooks"].items() if nb["error"])]
    qrows = "".join(f"<tr><td>{esc(q)}</td><td>{s:g} / {p:g}</td></tr>" for q, (s, p) in pq.items())
    note_html = "".join(f"<li>{esc(n)}</li>" for n in notes) or "<li>none</li>"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{esc(assignment)}: feedback for {esc(res['student_id'])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{border:1px solid #ccc;
padding:.3em .6em;vertical-align:top}}table{{border-collapse:collapse}}pre{{white-space:pre-wrap;margin:0}}</style>
</head><body>
<h1>{esc(assignment)}: {esc(res['student_id'])}</h1>
<p><b>Automatic score: {total:g} / {max_score:g}</b> (answers graded by hand are added later).</p>
<h2>Per question</h2><table><tr><th>question</th><th>score</th></tr>{qrows}</table>
<h2>Tests</h2>
<table><tr><th>question</th><th>test</th><th>result</th><th>points</th><th>message</th></tr>{''.join(rows)}</table>
<h2>What the grader did with your file</h2><ul>{note_html}</ul>
</body></html>
"""


def gradescope_json(res, pattern=r"^(q\d+)"):
    """Gradescope's results.json for one submission."""
    tests = []
    for name, cell in _cells(res):
        output = cell["message"] or cell["status"]
        if cell.get("output"):
            output += "\n" + cell["output"]
        entry = {"name": f"{question_of(cell['grade_id'], pattern)}: {cell['grade_id']}",
                 "max_score": cell["points"], "output": output, "visibility": "visible",
                 "status": "passed" if cell["status"] == "passed" else "failed"}
        if cell["score"] is not None:
            entry["score"] = cell["score"]
        else:
            entry["output"] = "graded by hand later"
            entry.pop("status")
        tests.append(entry)
    notes = [*res.get("notes", []), *res.get("events", []),
             *(f"{n}: {nb['error']}" for n, nb in res["notebooks"].items() if nb["error"])]
    return {"score": score_of(res), "tests": tests,
            "output": "\n".join(notes) or "Graded automatically.", "visibility": "visible"}


def class_summary(results, out, pattern=r"^(q\d+)"):
    """summary.csv (per question: mean, full marks, zero) and summary.png (distribution + difficulty)."""
    qs = questions(results, pattern)
    rows = []
    for q in qs:
        scores = [per_question(r, pattern).get(q, (0.0, 0.0)) for r in results.values()]
        points = max((p for _, p in scores), default=0.0)
        vals = [s for s, _ in scores]
        n = max(1, len(vals))
        rows.append({"question": q, "points": points, "mean": sum(vals) / n,
                     "mean_fraction": (sum(vals) / n / points) if points else 0.0,
                     "full_marks": sum(1 for v in vals if points and v >= points),
                     "zero": sum(1 for v in vals if v == 0), "students": len(vals)})
    with open(Path(out) / "summary.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["question"])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in row.items()})
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    totals = [score_of(r) for r in results.values()]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.hist(totals, bins=min(20, max(5, len(set(totals)))), color="#4c72b0")
    ax1.set_xlabel("automatic score")
    ax1.set_ylabel("students")
    ax1.set_title(f"Score distribution (n = {len(totals)})")
    ax2.bar([r["question"] for r in rows], [r["mean_fraction"] for r in rows], color="#dd8452")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("mean fraction of points")
    ax2.set_title("Per-question difficulty (lower = harder)")
    fig.tight_layout()
    fig.savefig(Path(out) / "summary.png", dpi=100)
    plt.close(fig)
    return rows


def write_reports(results, assignment, out, pattern=r"^(q\d+)"):
    out = Path(out)
    write_csv(results, assignment, out / "grades.csv", pattern)
    (out / "feedback").mkdir(exist_ok=True)
    (out / "gradescope").mkdir(exist_ok=True)
    for sid, res in results.items():
        (out / "feedback" / f"{sid}.html").write_text(feedback_html(res, assignment, pattern))
        (out / "gradescope" / sid).mkdir(exist_ok=True)
        (out / "gradescope" / sid / "results.json").write_text(json.dumps(gradescope_json(res, pattern), indent=1))
    if results:
        class_summary(results, out, pattern)
