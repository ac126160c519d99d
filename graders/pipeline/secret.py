"""The course's secret: what makes one offering's hidden test inputs unknown to the public.

The hidden checks draw their inputs from seeds. The repository only holds default seeds, and
anyone who can read the repository can read those. ``autograde-class init COURSE_ROOT``
writes a random secret to ``COURSE_ROOT/autograde_secret.txt`` (beside nbgrader's
gradebook; the course's .gitignore keeps it out of git), and the seeds are then derived from
it, per question, per student and per submitted answer: what one student learns of their
hidden inputs says nothing about anyone else's, nor about the inputs their next, changed
submission will get. Grading the same answers twice draws the same inputs, so a grade never
changes on its own. ``AUTOGRADE_SECRET_FILE`` names another file instead.
"""
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

FILE_NAME = "autograde_secret.txt"
ENV = "AUTOGRADE_SECRET_FILE"


def path_for(course_root):
    override = os.environ.get(ENV)
    return Path(override) if override else Path(course_root) / FILE_NAME


def read(course_root):
    """The secret as bytes, or None when the course has none."""
    path = path_for(course_root)
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return bytes.fromhex(text) if text else None


def create(course_root):
    """Write a new secret; refuses to replace one (that would change every hidden input)."""
    path = path_for(course_root)
    if path.exists():
        raise FileExistsError(f"{path} already exists: this course offering has its secret")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path


def derive_seed(secret, *parts):
    """A 63-bit seed from the secret and the parts (course, question, student)."""
    digest = hmac.new(secret, "|".join(map(str, parts)).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _normalized(source):
    text = "".join(source) if isinstance(source, list) else str(source or "")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line.strip())


def answers_digest(cells):
    """A digest of a notebook's answers: the source of every nbgrader solution cell, by grade id
    (whitespace at line ends and blank lines do not count). ``cells`` are nbformat cell dicts."""
    answers = []
    for cell in cells:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if isinstance(meta, dict) and meta.get("solution") and meta.get("grade_id"):
            answers.append((str(meta["grade_id"]), _normalized(cell.get("source"))))
    return hashlib.sha256(json.dumps(sorted(answers)).encode()).hexdigest()


def answers_digest_of_file(path):
    """The answers digest of a notebook file, or '' if it cannot be read."""
    try:
        with open(path, encoding="utf-8") as fh:
            return answers_digest(json.load(fh).get("cells", []))
    except (OSError, ValueError, AttributeError):
        return ""
