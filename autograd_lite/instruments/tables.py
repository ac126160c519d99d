"""Trace tables: one object, four renderings (HTML for Jupyter, Markdown, LaTeX, plain text).

A table keeps its cells as expression trees and numbers, and formats them only when it is
shown, so ``digits`` can change without recomputing anything. ``rows`` is the plain data
(names, expressions as text, unrounded values) for tests and graders.
"""
import html as _html

import numpy as np

from .expr import format_number, _latex_number

STYLES = ("text", "html", "latex")


class Equation:
    """A cell ``lhs = rhs`` (``rhs`` an Expr, or None for just the name)."""

    def __init__(self, lhs, rhs=None):
        self.lhs, self.rhs = lhs, rhs

    def render(self, style, digits):
        left = getattr(self.lhs, style)
        if self.rhs is None:
            return left
        return f"{left} = {self.rhs.render(style, digits=digits)}"

    def math(self):
        return True


class Substituted:
    """The right-hand side with every symbol replaced by its number."""

    def __init__(self, rhs, values):
        self.rhs, self.values = rhs, values

    def render(self, style, digits):
        if self.rhs is None:
            return ""
        return self.rhs.render(style, values=self.values, digits=digits)

    def math(self):
        return True


class Number:
    def __init__(self, value):
        self.value = value

    def render(self, style, digits):
        if self.value is None:
            return ""
        text = format_number(self.value, digits)
        if style == "latex":
            return _latex_number(text)
        if style == "html":
            return text.replace("-", "&minus;")
        return text

    def math(self):
        return False


class Text:
    def __init__(self, text):
        self.text = text

    def render(self, style, digits):
        return _html.escape(self.text) if style == "html" else self.text

    def math(self):
        return False


def _markdown_escape(text):
    return text.replace("|", r"\|")


class TraceTable:
    """A table of a trace; Jupyter shows it as HTML.

    ``rows``     list of dicts (at least "name", "expression", "value")
    ``result``   what the sweep computed (directional derivative, or input adjoints)
    ``digits``   significant digits used when rendering (rows keep full precision)
    """

    def __init__(self, title, headers, cells, rows, result=None, digits=4):
        self.title, self.headers, self.cells = title, list(headers), [list(r) for r in cells]
        self.rows, self.result, self.digits = rows, result, digits
        if any(len(r) != len(self.headers) for r in self.cells):
            raise ValueError("every row of a table needs one cell per header")

    def _digits(self, digits):
        return self.digits if digits is None else digits

    def _rendered(self, style, digits):
        return [[c.render(style, digits) for c in row] for row in self.cells]

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, name):
        """The (last) row named ``name``, e.g. ``table["v_2"]``."""
        for row in reversed(self.rows):
            if row["name"] == name:
                return row
        raise KeyError(f"no row named {name!r}; names are {[r['name'] for r in self.rows]}")

    def to_html(self, digits=None):
        digits = self._digits(digits)
        out = ['<table class="autograd-lite-trace" style="border-collapse:collapse">',
               f"<caption>{_html.escape(self.title)}</caption>", "<thead><tr>"]
        out += [f'<th style="text-align:left;padding:2px 10px">{h[1]}</th>' for h in self.headers]
        out.append("</tr></thead><tbody>")
        for row in self._rendered("html", digits):
            cells = "".join(f'<td style="text-align:left;padding:2px 10px">{c}</td>' for c in row)
            out.append(f"<tr>{cells}</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)

    def _repr_html_(self):
        return self.to_html()

    def to_markdown(self, digits=None):
        """A GitHub/Jupyter Markdown table; expressions are LaTeX between $ signs."""
        digits = self._digits(digits)
        lines = ["| " + " | ".join(_markdown_escape(h[0]) for h in self.headers) + " |",
                 "|" + "|".join("---" for _ in self.headers) + "|"]
        for row in self.cells:
            parts = []
            for c in row:
                if c.math():
                    text = c.render("latex", digits)
                    parts.append(f"${text}$" if text else "")
                else:
                    parts.append(c.render("text", digits))
            lines.append("| " + " | ".join(_markdown_escape(p) for p in parts) + " |")
        return "\n".join(lines)

    def _repr_markdown_(self):
        return None             # HTML is the rich form; Markdown on request only

    def to_latex(self, digits=None):
        """A LaTeX ``tabular`` (needs no package beyond plain LaTeX)."""
        digits = self._digits(digits)
        lines = [r"\begin{tabular}{" + "l" * len(self.headers) + "}", r"\hline",
                 " & ".join(h[2] for h in self.headers) + r" \\", r"\hline"]
        for row in self.cells:
            parts = []
            for c in row:
                text = c.render("latex", digits)
                if c.math() or isinstance(c, Number):
                    parts.append(f"${text}$" if text else "")
                else:
                    parts.append(text.replace("_", r"\_"))
            lines.append(" & ".join(parts) + r" \\")
        lines += [r"\hline", r"\end{tabular}"]
        return "\n".join(lines)

    def to_text(self, digits=None):
        digits = self._digits(digits)
        table = [[h[0] for h in self.headers]] + self._rendered("text", digits)
        widths = [max(len(r[i]) for r in table) for i in range(len(self.headers))]
        lines = [self.title]
        for k, r in enumerate(table):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return self.to_text()


def plain(value):
    """Values in rows: a Python number for one element, a numpy array otherwise."""
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.size == 1 and arr.ndim == 0:
        return arr.item()
    return np.array(arr)
