"""Computational-graph drawings of a trace (or of a tensor's backward graph).

Two engines draw the same picture description: graphviz's ``dot`` program when it is
installed (as on Colab), else a small layered layout drawn with matplotlib, so drawings
work everywhere, CI included. A drawing is rendered only when it is shown or saved.

In Jupyter a drawing is stored as SVG *and* PNG: JupyterLab renders SVG only in trusted
notebooks, and a freshly cloned notebook is untrusted, so the PNG is what most readers see
first. Both are scaled to fit a 900 px output area.
"""
import io
import re
import shutil
import subprocess

import numpy as np

from ..tensor import Tensor
from .expr import format_number

ENGINES = ("auto", "graphviz", "matplotlib")
OVERLAYS = (None, "tangent", "adjoint")
DIRECTIONS = ("LR", "TB")       # inputs on the left, or at the top
_COLORS = {"input": "#dbeafe", "op": "#f3f4f6", "const": "#ffffff", "output": "#dcfce7"}
_HIGHLIGHT = "#fde68a"
MAX_WIDTH_INCHES = 9.3       # 893 px at the 96 px per inch of browsers and of dot's PNGs
_PNG_DPI = 110


def graphviz_available():
    return shutil.which("dot") is not None


_SUBSCRIPT = re.compile(r"_(\{[-+0-9]+\}|[0-9])")
_SUBSCRIPT_DIGITS = str.maketrans("0123456789-+", "₀₁₂₃₄₅₆₇₈₉₋₊")


def pretty(text):
    """Plain-text names as a reader writes them: ``v_{-1}`` becomes ``v₋₁``, ``x_1`` ``x₁``.

    A picture has no LaTeX, and the braces of the plain-text form are noise in it."""
    if not text:
        return text
    return _SUBSCRIPT.sub(lambda m: m.group(1).strip("{}").translate(_SUBSCRIPT_DIGITS), text)


class GraphSpec:
    """What to draw: nodes (id, lines of text, kind, highlighted) and edges.

    Ids stay as the trace names them; the text that is shown goes through ``pretty``."""

    def __init__(self, title="", direction="LR"):
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'LR' (inputs on the left) or 'TB' (inputs at "
                             f"the top), got {direction!r}")
        self.title, self.direction, self.nodes, self.edges = pretty(title), direction, [], []

    def node(self, key, lines, kind, highlight=False):
        self.nodes.append({"id": key, "lines": [pretty(l) for l in lines if l], "kind": kind,
                           "highlight": highlight})

    def edge(self, src, dst, label=None, highlight=False):
        self.edges.append({"src": src, "dst": dst, "label": pretty(label), "highlight": highlight})


# -- building the description ------------------------------------------------------------
def _value_line(prefix, value, digits):
    return f"{prefix}{format_number(value, digits)}" if value is not None else None


def _trace_spec(tr, edge_labels=False, overlay=None, digits=4, overlay_values=None,
                highlight_nodes=(), highlight_edges=(), title="", direction="LR"):
    """``overlay_values`` maps variable names, and output names (``y``), to the tangent or
    adjoint written under each node."""
    from .trace import Var
    spec = GraphSpec(title, direction)
    overlay_values = overlay_values or {}
    accent = {"tangent": "dot", "adjoint": "bar"}.get(overlay)
    for var in tr.variables:
        lines = [f"{var.name} = {tr.primal_expression(var).render('text')}",
                 _value_line("", var.value, digits)]
        if overlay is not None and var.name in overlay_values:
            sym = getattr(var, accent)
            lines.append(_value_line(f"{sym.text} = ", overlay_values[var.name], digits))
        spec.node(var.name, lines, "input" if var.is_input else "op",
                  var.name in highlight_nodes)
    for var in tr.operations:
        for j, arg in enumerate(var.args):
            if isinstance(arg, Var):
                src = arg.name
            else:
                src = f"c{id(arg)}"
                if src not in {n["id"] for n in spec.nodes}:
                    spec.node(src, [format_number(arg.value, digits)], "const")
            label = None
            if edge_labels and isinstance(arg, Var):
                expr, value = tr.local_partial(var, j)
                partial = f"∂{var.name}/∂{arg.name}"
                if expr is not None:
                    partial += f" = {expr.render('text', digits=digits)}"
                if value is not None and (expr is None or expr.kind != "const"):
                    partial += f" = {format_number(value, digits)}"
                label = partial
            spec.edge(src, var.name, label, (src, var.name) in highlight_edges)
    for y, y_dot, y_bar, src in tr.outputs:
        lines = [y.text, _value_line("", src.value, digits)]
        if overlay is not None and y.text in overlay_values:
            sym = y_dot if overlay == "tangent" else y_bar
            lines.append(_value_line(f"{sym.text} = ", overlay_values[y.text], digits))
        spec.node(y.text, lines, "output", y.text in highlight_nodes)
        if isinstance(src, Var):
            spec.edge(src.name, y.text)
    return spec


def _tensor_spec(t, overlay=None, digits=4, names=None, direction="LR"):
    """The backward graph hanging off ``t.grad_fn`` (PyTorch's view: Backward nodes and leaves).

    ``names`` maps a name to a leaf tensor, so the drawing can say which leaf is which."""
    spec = GraphSpec("backward graph", direction)
    leaf_names = {id(leaf): name for name, leaf in (names or {}).items()}
    if t.grad_fn is None:
        spec.node("t", ["tensor", format_number(t._data, digits)], "input")
        return spec
    ids, seen, stack = {}, set(), [t.grad_fn]

    def key(obj):
        return ids.setdefault(id(obj), f"n{len(ids)}")

    spec.node("out", ["output", format_number(t._data, digits)], "output")
    spec.edge(key(t.grad_fn), "out")
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Tensor):
            lines = [leaf_names.get(id(node), "leaf") + (f" {tuple(node.shape)}" if node.ndim else ""),
                     format_number(node._data, digits)]
            if overlay == "adjoint" and node.grad is not None:
                lines.append("grad = " + format_number(node.grad._data, digits))
            spec.node(key(node), lines, "input")
            continue
        prim = getattr(node, "prim", None)
        name = node.name() if hasattr(node, "name") else type(node).__name__
        spec.node(key(node), [name, f"({prim.name})" if prim is not None else ""], "op")
        for parent, _ in node.next_functions:
            if parent is None:
                continue
            spec.edge(key(parent), key(node))
            stack.append(parent)
    return spec


# -- layout and rendering -------------------------------------------------------------------
def _layers(spec):
    """Longest-path layering, left to right; constants sit just before their consumer."""
    incoming = {}
    for e in spec.edges:
        incoming.setdefault(e["dst"], []).append(e["src"])
    kinds = {n["id"]: n["kind"] for n in spec.nodes}
    layer = {}

    def depth(k, guard=0):
        if k in layer:
            return layer[k]
        if guard > 10000:
            raise RecursionError("graph too deep to lay out")
        parents = [p for p in incoming.get(k, []) if kinds.get(p) != "const"]
        layer[k] = 0 if not parents else 1 + max(depth(p, guard + 1) for p in parents)
        return layer[k]

    for n in spec.nodes:
        if n["kind"] != "const":
            depth(n["id"])
    for e in spec.edges:
        if kinds.get(e["src"]) == "const":
            layer[e["src"]] = max(0, layer[e["dst"]] - 1) if e["src"] not in layer else \
                min(layer[e["src"]], max(0, layer[e["dst"]] - 1))
    return layer


def _dot_escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(spec):
    lines = ["digraph G {", f'  rankdir={spec.direction}; bgcolor="white"; size="{MAX_WIDTH_INCHES},40";',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']
    if spec.title:
        lines.append(f'  label="{_dot_escape(spec.title)}"; labelloc=t; fontname="Helvetica";')
    # Hovering shows a tooltip; without one, graphviz shows the node's id (``v_{-1}``, or
    # whatever key the caller chose), so every node and edge gets its readable text.
    names = {n["id"]: (n["lines"] or [n["id"]])[0].split(" = ")[0] for n in spec.nodes}
    for n in spec.nodes:
        color = _HIGHLIGHT if n["highlight"] else _COLORS[n["kind"]]
        shape = ', shape=ellipse' if n["kind"] == "const" else ""
        label = "\\n".join(_dot_escape(l) for l in n["lines"])
        tooltip = _dot_escape(", ".join(n["lines"]) or n["id"])
        lines.append(f'  "{n["id"]}" [label="{label}", tooltip="{tooltip}", '
                     f'fillcolor="{color}"{shape}];')
    for e in spec.edges:
        hover = f'{names.get(e["src"], e["src"])} → {names.get(e["dst"], e["dst"])}'
        attrs = [f'tooltip="{_dot_escape(hover + (": " + e["label"] if e["label"] else ""))}"']
        if e["label"]:
            attrs.append(f'label="{_dot_escape(e["label"])}"')
        if e["highlight"]:
            attrs.append('color="#d97706", penwidth=2.5')
        attrs = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f'  "{e["src"]}" -> "{e["dst"]}"{attrs};')
    lines.append("}")
    return "\n".join(lines)


def _run_dot(source, fmt):
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("graphviz's `dot` program is not installed; use engine='matplotlib' "
                           "(or install graphviz: apt-get install graphviz)")
    done = subprocess.run([dot, f"-T{fmt}"], input=source.encode(), capture_output=True,
                          timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def _matplotlib_figure(spec):
    from matplotlib.figure import Figure
    layer = _layers(spec)
    columns = {}
    for n in spec.nodes:
        columns.setdefault(layer[n["id"]], []).append(n)
    n_cols = max(columns) + 1 if columns else 1
    n_rows = max((len(c) for c in columns.values()), default=1)
    longest = max((max(len(l) for l in n["lines"]) for n in spec.nodes), default=4)
    longest_label = max((len(e["label"]) for e in spec.edges if e["label"]), default=0)
    col_width = max(1.6, 0.085 * longest + 0.4, 0.062 * longest_label + 0.8)
    across = spec.direction == "TB"      # layers become rows, from the top down
    if across:
        n_cols, n_rows = n_rows, n_cols
    width, height = max(3.0, col_width * n_cols + 0.5), max(1.6, 1.05 * n_rows + 0.7)
    scale = min(1.0, MAX_WIDTH_INCHES / width)     # a wide graph shrinks, text and all
    fig = Figure(figsize=(width * scale, height * scale))
    ax = fig.add_axes((0, 0, 1, 0.92 if spec.title else 1))
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-0.6, n_rows - 0.4)
    ax.axis("off")
    if spec.title:
        fig.suptitle(spec.title, fontsize=10 * scale)
    pos, boxes = {}, {}
    for c, nodes in columns.items():
        width = n_cols if across else n_rows
        offset = (width - len(nodes)) / 2
        for r, n in enumerate(nodes):
            pos[n["id"]] = (offset + r, n_rows - 1 - c) if across else \
                (c, n_rows - 1 - (offset + r))
    for n in spec.nodes:
        x, y = pos[n["id"]]
        color = _HIGHLIGHT if n["highlight"] else _COLORS[n["kind"]]
        style = "round,pad=0.35" if n["kind"] != "const" else "circle,pad=0.2"
        text = ax.text(x, y, "\n".join(n["lines"]), ha="center", va="center", fontsize=9 * scale,
                       bbox=dict(boxstyle=style, fc=color, ec="#374151", lw=0.8), zorder=3)
        boxes[n["id"]] = text
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()                       # lay out the text once to learn each box's extent
    renderer, to_data = canvas.get_renderer(), ax.transData.inverted()
    extents = {}
    for key, text in boxes.items():
        bb = text.get_bbox_patch().get_window_extent(renderer)
        (x0, y0), (x1, y1) = to_data.transform([(bb.x0, bb.y0), (bb.x1, bb.y1)])
        extents[key] = (x0, y0, x1, y1)
    for e in spec.edges:
        start = _border_point(extents[e["src"]], pos[e["dst"]])
        end = _border_point(extents[e["dst"]], pos[e["src"]])
        color = "#d97706" if e["highlight"] else "#4b5563"
        ax.annotate("", xy=end, xytext=start, zorder=4,
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=2.2 if e["highlight"] else 1,
                                    shrinkA=0, shrinkB=1, mutation_scale=12 * scale))
        if e["label"]:
            x, y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
            ax.text(x, y, e["label"], ha="center", va="center", fontsize=7 * scale, color="#1f2937",
                    zorder=5, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.9))
    return fig


def _border_point(extent, toward):
    """Where the segment from a box's centre toward ``toward`` leaves the box."""
    x0, y0, x1, y1 = extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min((x1 - cx) / abs(dx) if dx else np.inf, (y1 - cy) / abs(dy) if dy else np.inf)
    return cx + dx * scale, cy + dy * scale


class GraphDrawing:
    """A drawing of a computational graph; Jupyter shows it inline, ``save`` writes SVG/PNG."""

    def __init__(self, spec, engine="auto", format="svg"):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        if format not in ("svg", "png"):
            raise ValueError(f"format must be 'svg' or 'png', got {format!r}")
        if engine == "auto":
            engine = "graphviz" if graphviz_available() else "matplotlib"
        elif engine == "graphviz" and not graphviz_available():
            raise RuntimeError("engine='graphviz' needs graphviz's `dot` program, which is not "
                               "installed; use engine='auto' or 'matplotlib'")
        self.spec, self.engine, self.format = spec, engine, format
        self._cache = {}

    @property
    def title(self):
        return self.spec.title

    @property
    def source(self):
        """The graph in graphviz's DOT language (whatever the engine)."""
        return to_dot(self.spec)

    def render(self, fmt="svg"):
        """The picture as bytes in ``fmt`` ('svg' or 'png')."""
        if fmt not in self._cache:
            if self.engine == "graphviz":
                self._cache[fmt] = _run_dot(self.source, fmt)
            else:
                import matplotlib
                fig = _matplotlib_figure(self.spec)
                buffer = io.BytesIO()
                with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "autograd-lite"}):
                    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
                    dpi = min(_PNG_DPI, 96 * MAX_WIDTH_INCHES / fig.get_figwidth())
                    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
                self._cache[fmt] = buffer.getvalue()
        return self._cache[fmt]

    def _repr_svg_(self):
        return self.render("svg").decode() if self.format == "svg" else None

    def _repr_png_(self):
        return self.render("png")

    def _repr_mimebundle_(self, include=None, exclude=None):
        """SVG for trusted notebooks and PNG for everyone else (see the module docstring)."""
        bundle = {"image/png": self.render("png")}
        if self.format == "svg":
            bundle["image/svg+xml"] = self.render("svg").decode()
        return bundle

    def save(self, path):
        """Write the drawing; the file's extension (.svg or .png) picks the format."""
        path = str(path)
        fmt = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if fmt not in ("svg", "png"):
            raise ValueError(f"save: give a path ending in .svg or .png, got {path!r}")
        with open(path, "wb") as fh:
            fh.write(self.render(fmt))
        return path

    def __repr__(self):
        title = f" ({self.spec.title})" if self.spec.title else ""
        return f"<computational graph{title}: {len(self.spec.nodes)} nodes, {len(self.spec.edges)} edges>"


def draw_graph(trace_or_tensor, edge_labels=False, overlay=None, engine="auto", digits=4,
               seed=None, format="svg", direction="LR", names=None):
    """Draw the computational graph of a Trace (or of a Tensor's backward graph).

    ``edge_labels=True`` writes each edge's local partial derivative (from the JVP rule)
    with its value. ``overlay="tangent"`` or ``"adjoint"`` adds each node's tangent or
    adjoint, the output's included, for ``seed`` (default: the trace's last forward/reverse
    sweep, else the default seed). ``direction="TB"`` puts the inputs at the top instead of
    on the left, for long chains. ``names`` (tensor graphs) maps names to leaf tensors.
    """
    from .trace import Trace
    if overlay not in OVERLAYS:
        raise ValueError(f"overlay must be None, 'tangent' or 'adjoint', got {overlay!r}")
    if isinstance(trace_or_tensor, Trace):
        tr = trace_or_tensor
        values = None
        if overlay == "tangent":
            table = tr.forward(seed) if seed is not None or tr.last_forward is None else tr.last_forward
            values = dict(table.tangents)
            values.update(_output_tangents(tr, table))
        elif overlay == "adjoint":
            table = tr.reverse(seed) if seed is not None or tr.last_reverse is None else tr.last_reverse
            values = dict(table.adjoints)
            values.update(_output_seeds(tr, table))
        spec = _trace_spec(tr, edge_labels, overlay, digits, values, direction=direction)
    elif isinstance(trace_or_tensor, Tensor):
        spec = _tensor_spec(trace_or_tensor, overlay, digits, names, direction)
    else:
        raise TypeError(f"draw_graph: give a Trace (ag.trace(f, ...)) or a Tensor, got "
                        f"{type(trace_or_tensor).__name__}")
    return GraphDrawing(spec, engine, format)


def _output_seeds(tr, table):
    """ȳ of each output: the seed the reverse sweep started from."""
    return {y.text: s for (y, *_), s in zip(tr.outputs, table.seed)}


def _output_tangents(tr, table):
    """ẏ of each output: the tangent of the value it returns."""
    return {y.text: table.tangents[src.name] for y, _, _, src in tr.outputs
            if getattr(src, "name", None) in table.tangents}


# -- sweeps, one step at a time ---------------------------------------------------------
def _frame_count(tr, mode, table):
    return len(tr.operations) + 1 if mode == "forward" else len(table.steps)


def _sweep_table(tr, mode, seed):
    if mode == "forward":
        return tr.forward(seed)
    if mode == "reverse":
        return tr.reverse(seed)
    raise ValueError(f"mode must be 'forward' or 'reverse', got {mode!r}")


def _frame_spec(tr, k, mode, table, edge_labels, digits):
    if mode == "forward":
        n = len(tr.inputs)
        known = tr.variables[: n + k]
        values = {v.name: table.tangents[v.name] for v in known}
        if k == 0:
            title = "forward step 0: seed " + ", ".join(
                f"{v.dot.text} = {format_number(table.tangents[v.name], digits)}" for v in tr.inputs)
            return _trace_spec(tr, edge_labels, "tangent", digits, values,
                               highlight_nodes={v.name for v in tr.inputs}, title=title)
        var = tr.operations[k - 1]
        row = table[var.name]
        title = (f"forward step {k}: {row['tangent_name']} = {row['tangent_expression']} = "
                 f"{format_number(row['tangent'], digits)}")
        edges = {(a.name, var.name) for a in var.args if hasattr(a, "name")}
        return _trace_spec(tr, edge_labels, "tangent", digits, values, {var.name}, edges, title)
    step = table.steps[k]
    values = _output_seeds(tr, table)      # the sweep starts from ȳ
    for s in table.steps[: k + 1]:
        values[s["target"].name] = s["adjoint"]
    target, source = step["target"], step["source"]
    title = (f"reverse step {k}: {target.bar.text} = {step['expr'].render('text')} = "
             f"{format_number(step['adjoint'], digits)}")
    edges = {(target.name, source.name)} if source is not None else set()
    nodes = {target.name} | ({source.name} if source is not None else set())
    return _trace_spec(tr, edge_labels, "adjoint", digits, values, nodes, edges, title)


def draw_sweep_step(tr, k, mode="forward", seed=None, edge_labels=False, engine="auto",
                    digits=4, format="svg"):
    """The graph after step ``k`` of the forward or reverse sweep (for a slider)."""
    table = _sweep_table(tr, mode, seed)
    count = _frame_count(tr, mode, table)
    if not 0 <= k < count:
        raise IndexError(f"the {mode} sweep of this trace has steps 0..{count - 1}, not {k}")
    return GraphDrawing(_frame_spec(tr, k, mode, table, edge_labels, digits), engine, format)


def sweep_frames(tr, mode="forward", seed=None, edge_labels=False, engine="auto", digits=4,
                 format="svg"):
    """Every step of a sweep as a list of drawings (each rendered only when shown)."""
    table = _sweep_table(tr, mode, seed)
    return [GraphDrawing(_frame_spec(tr, k, mode, table, edge_labels, digits), engine, format)
            for k in range(_frame_count(tr, mode, table))]


def sweep_widget(tr, mode="forward", seed=None, **options):
    """An ipywidgets slider that steps through a sweep (needs ipywidgets)."""
    try:
        import ipywidgets as widgets
    except ImportError as exc:
        raise ImportError("sweep_widget needs ipywidgets (pip install ipywidgets); "
                          "trace.steps(mode) gives the frames as a list instead") from exc
    from IPython.display import display
    frames = sweep_frames(tr, mode, seed, **options)
    out = widgets.Output()

    def show(step):
        out.clear_output(wait=True)
        with out:
            display(frames[step])

    slider = widgets.IntSlider(value=0, min=0, max=len(frames) - 1, description=f"{mode} step")
    widgets.interactive(show, step=slider)
    show(0)
    box = widgets.VBox([slider, out])
    box.frames = frames
    return box
