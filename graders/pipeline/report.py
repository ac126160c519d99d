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
    """{question: (points scored, points)}; points awaiting a grader's hand count as 0 here, as
    in nbgrader's raw_score."""
    return {q: (scored, points) for q, (scored, pending, points) in per_question_pending(res, pattern).items()}


def per_question_pending(res, pattern):
    """{question: (points scored, points awaiting hand grading, points)}."""
    out = {}
    for _, cell in _cells(res):
        q = question_of(cell["grade_id"], pattern)
        scored, pending, points = out.get(q, (0.0, 0.0, 0.0))
        if cell["score"] is None:
            pending += cell["points"]
        else:
            scored += cell["score"]
        out[q] = (scored, pending, points + cell["points"])
    return out


def write_csv(results, assignment, path, pattern=r"^(q\d+)"):
    """nbgrader export's columns (same order and meaning: raw_score counts points graded so far,
    max_score every point of the assignment, hand-graded ones included), then one column per
    question, the points still awaiting hand grading, and what the grader noticed."""
    qs = questions(results, pattern)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(NBGRADER_COLUMNS + qs + ["points_pending_hand_grading", "problems"])
        for sid in sorted(results):
            res = results[sid]
            pq = per_question_pending(res, pattern)
            max_score = sum(p for _, _, p in pq.values())
            total = score_of(res)
            pending = sum(x for _, x, _ in pq.values())
            problems = "; ".join(list(res.get("found", [])) + ([res["infra_error"]] if res.get("infra_error") else []) +
                                 [f"{n}: {nb['error']}" for n, nb in res["notebooks"].items() if nb["error"]])
            if res.get("infra_error"):
                # never graded: empty score columns, so no one reads them as a zero
                writer.writerow([assignment, "", "", sid, res.get("last_name", ""), res.get("first_name", ""),
                                 "", "", "", "", f"{max_score:.1f}"] + [""] * len(qs) + ["", problems])
                continue
            writer.writerow([assignment, "", "", sid, res.get("last_name", ""), res.get("first_name", ""),
                             "", f"{total:.1f}", "0.0", f"{total:.1f}", f"{max_score:.1f}"]
                            + [f"{pq.get(q, (0.0, 0.0, 0.0))[0]:g}" for q in qs] + [f"{pending:g}", problems])


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
        detail = f"<pre>{esc(cell['message'])}</pre>" if cell["message"] else ""
        if cell.get("output"):
            detail += f"<pre>{esc(cell['output'])}</pre>"
        rows.append(f"<tr><td>{esc(question_of(cell['grade_id'], pattern))}</td><td>{esc(cell['grade_id'])}</td>"
                    f"<td style='color:{colour}'>{esc(status)}</td><td>{score} / {cell['points']:g}</td>"
                    f"<td>{detail}</td></tr>")
    notes = [*res.get("found", []), *([res["infra_error"]] if res.get("infra_error") else []),
             *res.get("notes", []), *res.get("events", []),
             *(f"{n}: {nb['error']}" for n, nb in res["notebooks"].items() if nb["error"])]
    qrows = "".join(f"<tr><td>{esc(q)}</td><td>{s:g} / {p:g}</td></tr>" for q, (s, p) in pq.items())
    note_html = "".join(f"<li>{esc(n)}</li>" for n in notes) or "<li>none</li>"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{esc(assignment)}: feedback for {esc(_who(res))}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{border:1px solid #ccc;
padding:.3em .6em;vertical-align:top}}table{{border-collapse:collapse}}pre{{white-space:pre-wrap;margin:0}}</style>
</head><body>
<h1>{esc(assignment)}: {esc(_who(res))}</h1>
<p><b>Automatic score: {total:g} / {max_score:g}</b> (answers graded by hand are added later).</p>
<h2>Per question</h2><table><tr><th>question</th><th>score</th></tr>{qrows}</table>
<h2>Tests</h2>
<table><tr><th>question</th><th>test</th><th>result</th><th>points</th><th>message</th></tr>{''.join(rows)}</table>
<h2>What the grader did with your file</h2><ul>{note_html}</ul>
</body></html>
"""


def _who(res):
    name = " ".join(n for n in (res.get("first_name", ""), res.get("last_name", "")) if n).strip()
    return f"{name} ({res['student_id']})" if name else res["student_id"]


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
    notes = [*res.get("found", []), *res.get("notes", []), *res.get("events", []),
             *(f"{n}: {nb['error']}" for n, nb in res["notebooks"].items() if nb["error"])]
    return {"score": score_of(res), "tests": tests,
            "output": "\n".join(notes) or "Graded automatically.", "visibility": "visible"}


def class_summary(results, out, pattern=r"^(q\d+)", note=""):
    """summary.csv and summary.png, per question: the mean of the points graded so far, how many
    students have full marks or zero, and how many still await hand grading (they count in
    neither, and their pending points in no mean)."""
    qs = questions(results, pattern)
    rows = []
    for q in qs:
        marks = [per_question_pending(r, pattern).get(q, (0.0, 0.0, 0.0)) for r in results.values()]
        points = max((p for _, _, p in marks), default=0.0)
        graded = [(s, p - x) for s, x, p in marks if p - x > 0]
        settled = [s for s, x, p in marks if x == 0]
        mean_fraction = sum(s / g for s, g in graded) / len(graded) if graded else None
        rows.append({"question": q, "points": points,
                     "mean": sum(s for s, _ in graded) / len(graded) if graded else None,
                     "mean_fraction": mean_fraction,
                     "full_marks": sum(1 for s in settled if points and s >= points),
                     "zero": sum(1 for s in settled if s == 0),
                     "pending": sum(1 for _, x, _ in marks if x > 0),
                     "students": len(marks)})
    with open(Path(out) / "summary.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["question"])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("pending" if v is None else f"{v:.3f}" if isinstance(v, float) else v)
                             for k, v in row.items()})
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    totals = [score_of(r) for r in results.values()]
    height = max(4.0, 1.5 + 0.35 * len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, height))
    ax1.hist(totals, bins=min(20, max(5, len(set(totals)))), color="#4c72b0")
    ax1.set_xlabel("points graded so far")
    ax1.set_ylabel("students")
    ax1.set_title(f"Score distribution (n = {len(totals)})")
    # questions as horizontal bars: their labels stay readable however many there are
    labels = [r["question"] for r in rows][::-1]
    values = [r["mean_fraction"] or 0.0 for r in rows][::-1]
    ax2.barh(labels, values, color="#dd8452")
    for y, row in enumerate(rows[::-1]):
        if row["mean_fraction"] is None:
            ax2.text(0.01, y, "pending hand grading", va="center", fontsize=8, color="#0969da")
    ax2.set_xlim(0, 1)
    ax2.set_xlabel("mean fraction of the points graded so far")
    ax2.set_title("Per-question difficulty (shorter = harder)")
    fig.tight_layout()
    if note:
        fig.text(0.01, 0.01, note, fontsize=8, color="#cf222e", wrap=True)
        fig.subplots_adjust(bottom=0.28)
    fig.savefig(Path(out) / "summary.png", dpi=100)
    plt.close(fig)
    return rows


def write_reports(results, assignment, out, pattern=r"^(q\d+)", note="", problems=()):
    """Every report; ``note`` (what the sandbox could not do here) goes on the class summary.
    Returns the paths written."""
    out = Path(out)
    write_csv(results, assignment, out / "grades.csv", pattern)
    (out / "feedback").mkdir(exist_ok=True)
    (out / "gradescope").mkdir(exist_ok=True)
    for sid, res in results.items():
        (out / "feedback" / f"{sid}.html").write_text(feedback_html(res, assignment, pattern))
        (out / "gradescope" / sid).mkdir(exist_ok=True)
        (out / "gradescope" / sid / "results.json").write_text(json.dumps(gradescope_json(res, pattern), indent=1))
    written = [out / "grades.csv", out / "feedback", out / "gradescope"]
    if results:
        class_summary(results, out, pattern, note)
        written += [out / "summary.csv", out / "summary.png"]
    return written
