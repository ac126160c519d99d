"""The hostile battery on the real course: every way a student might read or game the checks.

``cases(course, ctx)`` returns (LMS file name, notebook, expected total) triples. Each notebook
starts from the released ``autodiff`` notebook with the model answers filled in (24 automatic
points), then breaks or attacks one thing, so its exact score says whether the attack worked:

- reading the checks: caller frames and their sources, IPython's history, the seeds, the
  answer key (importing it, finding it on disk), the course secret;
- replacing the checks: rebinding ``checks``, swapping ``sys.modules`` entries, patching
  ``graders``, numpy and builtins after import, a thread that keeps patching;
- reading other people's files: the LMS zip, another student's notebook, the course and the
  output folder, home and temporary folders, the network;
- leaking hidden inputs: printing them during a hidden test, keeping them for a later cell;
- objects whose ``==`` always says yes; and crashes and endless loops inside a hidden test;
- valid answers that must not lose points (a graph using ``pow``, a Tensor handed to
  matplotlib, a notebook an editor saved without metadata and with a split answer, an
  ``exit()`` left in a scratch cell), and a q5 mistake that must cost q5 alone.

``ctx`` holds the paths and the port the attacks aim at.
"""
import copy

import nbformat

FULL = 24


def _answers(course):
    source = nbformat.read(str(course / "source" / "autodiff" / "autodiff.ipynb"), as_version=4)
    out = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            out[meta["grade_id"]] = cell.source.replace("### BEGIN SOLUTION\n", "").replace(
                "\n### END SOLUTION", "")
    return out


def notebook(course, answers=None, extra=None, untouched=()):
    """The release with the model answers, ``answers`` ({grade_id: source}) instead of some,
    ``untouched`` answer cells left as released, and ``extra`` ({grade_id: source}) cells
    inserted after the cell with that grade id."""
    nb = nbformat.read(str(course / "release" / "autodiff" / "autodiff.ipynb"), as_version=4)
    filled = dict(_answers(course), **(answers or {}))
    cells = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in filled and grade_id not in untouched and cell.metadata["nbgrader"].get("solution"):
            cell = copy.deepcopy(cell)
            cell.source = filled[grade_id]
        cells.append(cell)
        if extra and grade_id in extra:
            cells.append(nbformat.v4.new_code_cell(extra[grade_id]))
    nb.cells = cells
    return nb


TYPICAL_MISTAKES = {   # one typical mistake per question (6 of 24 automatic points)
    "q1_answer": '''
def predicted_costs(g, n):            # measured the example from the table, not g
    example = lambda x: ag.sum(ag.tanh(x) * x)
    def measure(transform, k):
        count = ag.count_ops(transform, ag.tensor(np.linspace(-0.9, 0.9, k)))
        return count.total, count.elements
    predictions = {}
    for name, transform in (("grad", ag.grad(example)), ("hessian", ag.hessian(example))):
        at2, at3, at4 = (measure(transform, k) for k in (2, 3, 4))
        for i, metric in enumerate(("calls", "elements")):
            first, second = at3[i] - at2[i], at4[i] - 2 * at3[i] + at2[i]
            predictions[f"{name}_{metric}"] = (at2[i] + first * (n - 2)
                                               + second * (n - 2) * (n - 3) // 2)
    return predictions
''',
    "q2_answer": '''
def second_backward_error(f, x):
    x = ag.tensor(x, requires_grad=True)
    y = f(x)
    y.backward()
    try:
        y.backward()
    except RuntimeError as err:
        return err

def accumulated_grad(f, x, times):    # ignores `times`: always two passes
    x = ag.tensor(x, requires_grad=True)
    y = f(x)
    y.backward(retain_graph=True)
    y.backward()
    return x.grad.numpy()
''',
    "q3_answer": '''
def control_flow_grad(a):             # forgot the other branch
    k = 2.0
    while np.linalg.norm(k * a) < 1000:
        k *= 2
    return np.full(a.shape, k)

def control_flow_jacobian(a):
    return control_flow_grad(a)
''',
    "q4_answer": '''
def sin_derivative(xs):
    return np.cos(xs)

def tangent_plot(x0):
    fig, ax = plt.subplots()
    xs = np.linspace(-6, 6, 100)
    ax.plot(xs, np.sin(xs))
    return fig
''',
    "q6_answer": '''
LOCAL = {"neg": lambda u: [-1.0], "square": lambda u: [2 * u], "reciprocal": lambda u: [-1 / u ** 2],
         "sqrt": lambda u: [0.5 / math.sqrt(u)], "exp": lambda u: [math.exp(u)],
         "log": lambda u: [1 / u], "sin": lambda u: [math.cos(u)], "cos": lambda u: [-math.sin(u)],
         "add": lambda a, b: [1.0, 1.0], "sub": lambda a, b: [1.0, -1.0],
         "mul": lambda a, b: [a, b],                  # the two partials swapped
         "div": lambda a, b: [1 / b, -a / b ** 2], "pow": lambda a, b: [b * a ** (b - 1), 0.0]}

def edge_partials(graph, x):
    values, local = node_values(graph, x), {}
    for node, (op, *args) in graph.items():
        if op in ("input", "const"):
            continue
        for parent, d in zip(args, LOCAL[op](*[values[p] for p in args])):
            if graph[parent][0] != "const":
                local[(parent, node)] = local.get((parent, node), 0.0) + d
    return local

def all_paths(graph):
    nodes = list(graph)
    children = {n: [c for c in nodes if n in graph[c][1:] and graph[c][0] != "const"] for n in nodes}
    paths = []
    def extend(path):
        if path[-1] == nodes[-1]:
            paths.append(path)
        for child in children[path[-1]]:
            extend(path + [child])
    extend([nodes[0]])
    return paths

def df_dx(graph, x):
    local = edge_partials(graph, x)
    return sum(math.prod(local[e] for e in zip(p, p[1:])) for p in all_paths(graph))
''',
    "q7_answer": '''
def correct_partials(graph, x):
    values, local = node_values(graph, x), {}
    table = {"square": lambda u: [2 * u], "log": lambda u: [1 / u], "sin": lambda u: [math.cos(u)],
             "cos": lambda u: [-math.sin(u)], "exp": lambda u: [math.exp(u)],
             "reciprocal": lambda u: [-1 / u ** 2], "neg": lambda u: [-1.0],
             "sqrt": lambda u: [0.5 / math.sqrt(u)], "add": lambda a, b: [1.0, 1.0],
             "sub": lambda a, b: [1.0, -1.0], "mul": lambda a, b: [b, a],
             "div": lambda a, b: [1 / b, -a / b ** 2], "pow": lambda a, b: [b * a ** (b - 1), 0.0]}
    for node, (op, *args) in graph.items():
        if op not in ("input", "const"):
            for parent, d in zip(args, table[op](*[values[p] for p in args])):
                local[(parent, node)] = local.get((parent, node), 0.0) + d
    return local

def forward_tangents(graph, x):       # only follows the first parent of each node
    local = correct_partials(graph, x)
    tangent = {}
    for node, (op, *parents) in graph.items():
        if op == "input":
            tangent[node] = 1.0
        elif op != "const" and parents[0] in tangent:
            tangent[node] = local[(parents[0], node)] * tangent[parents[0]]
        elif op != "const" and parents[-1] in tangent:
            tangent[node] = local[(parents[-1], node)] * tangent[parents[-1]]
    return tangent

def backward_adjoints(graph, x):
    return {node: 0.0 for node in graph}
''',
    "q8_answer": '''
def _calls(transform, n, m):
    return ag.count_ops(transform(make_f(n, m)), ag.tensor(np.linspace(-1.0, 1.0, n))).total

def predicted_jacobian_calls(n, m):
    forward_1, forward_2 = _calls(ag.jacfwd, 1, 1), _calls(ag.jacfwd, 2, 1)
    reverse_1, reverse_2 = _calls(ag.jacrev, 1, 1), _calls(ag.jacrev, 1, 2)
    return {"jacfwd": forward_1 + (forward_2 - forward_1) * (n - 1),
            "jacrev": reverse_1 + (reverse_2 - reverse_1) * (m - 1)}

def crossover_m(n):                   # read 13 off the plot at n = 16 and scaled it with n
    return round(n * 13 / 16)
''',
}

ALL_ANSWERS = ["q1_answer", "q2_answer", "q3_answer", "q4_answer", "q5_answer", "q6_answer",
               "q7_answer", "q8_answer"]

PEEK_FRAMES = '''
import inspect
peeked = []

def control_flow_grad(a):
    # look for the check's own variables and code up the call stack
    for info in inspect.stack():
        frame = info.frame
        for key, value in list(frame.f_locals.items()):
            if key in ("case", "cases", "expected", "seed", "rng", "student", "answers"):
                peeked.append((key, value))
        try:
            peeked.append(("source", inspect.getsource(frame)))
        except (OSError, TypeError):
            pass
    for key, value in peeked:
        if key == "case":
            return value["grad"]
    return np.zeros_like(a)

def control_flow_jacobian(a):
    return np.zeros((a.size, a.size))
'''

PEEK_HISTORY = '''
ip = get_ipython()
history = "\\n".join(list(In) + list(ip.history_manager.input_hist_raw))
found = [line for line in history.splitlines()
         if "hidden" in line or "seed" in line or "autodiff_instructor" in line]
print("history lines about hidden tests:", found)
'''

def seed_reader(ctx):
    return SEED_READER.replace("COURSE_ROOT", repr(ctx["course_root"]))


SEED_READER = '''
import os, glob
key = None
try:
    from autodiff_instructor import reference as key
except ImportError:
    pass
places = [COURSE_ROOT, os.path.expanduser("~"), "/tmp", "/work", "/home", "/srv", "/mnt"]
for place in places:
    for depth in ("", "*/", "*/*/", "*/*/*/"):
        for name in ("autograde_secret.txt", "autodiff_instructor/reference.py"):
            for path in glob.glob(os.path.join(place, depth + name)):
                print("found", path)
                key = key or path
secret = os.environ.get("AUTOGRADE_SECRET_FILE")

def control_flow_grad(a):
    if key is not None and not isinstance(key, str):
        return np.full(a.shape, key.control_factor(a))
    return np.zeros_like(a)

def control_flow_jacobian(a):
    return np.zeros((a.size, a.size))
'''

FAKE_CHECKS = '''
class Passes:
    def __getattr__(self, name):
        return lambda *args, **kwargs: print(f"{name}: all checks passed")

checks = Passes()
hidden = Passes()
'''

SWAP_MODULES = '''
import sys, types
fake = types.ModuleType("fake")
fake.__getattr__ = lambda name: (lambda *args, **kwargs: print(name, "passed"))
for name in ("graders", "graders.checks", "graders.judging", "autodiff_instructor",
             "autodiff_instructor.hidden"):
    sys.modules[name] = fake
'''

PATCH_AFTER_IMPORT = '''
import builtins, numpy, graders.checks, graders.judging
always = lambda *args, **kwargs: True
graders.judging.close = graders.checks.close = always
graders.judging.close_number = graders.checks.close_number = always
graders.judging.Context.fail = lambda self, *args, **kwargs: None
for name in dir(graders.checks):
    if name.startswith(("judge_", "q")):
        setattr(graders.checks, name, lambda *args, **kwargs: None)
numpy.allclose = numpy.isclose = numpy.array_equal = always
'''

THREAD_PATCHER = '''
import threading, time, graders.checks, graders.judging, numpy
def keep_patching():
    while True:
        graders.judging.close = graders.checks.close = lambda *a, **k: True
        graders.judging.Context.fail = lambda self, *a, **k: None
        numpy.allclose = lambda *a, **k: True
        time.sleep(0.001)
threading.Thread(target=keep_patching, daemon=True).start()
'''

BUILTINS = '''
import builtins
class Nothing(Exception):
    pass
builtins.AssertionError = Nothing
builtins.isinstance = lambda obj, kind: True
builtins.abs = lambda value: 0.0
'''

ALWAYS_EQUAL = {
    "q3_answer": '''
class Anything(np.ndarray):
    def __eq__(self, other): return True
    def __ne__(self, other): return False

def control_flow_grad(a):
    return np.zeros(a.shape).view(Anything)

def control_flow_jacobian(a):
    return np.zeros((a.size, a.size)).view(Anything)
''',
    "q8_answer": '''
class Count(int):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = int.__hash__

class Counts(dict):
    def __getitem__(self, key): return Count(0)
    def __contains__(self, key): return True

def predicted_jacobian_calls(n, m):
    return Counts()

def crossover_m(n):
    return Count(0)
''',
}


def snooper(ctx):
    targets = [ctx["zip"], ctx["other_submission"], ctx["course_notebook"], ctx["reference"],
               ctx["secret"], ctx["results_dir"], ctx["input_folder"], ctx["tmp_marker"],
               ctx["home_marker"]]
    return f'''
import os
leaks = []
for path in {targets!r}:
    try:
        if os.path.isdir(path):
            leaks.append((path, os.listdir(path)[:3]))
        else:
            with open(path, "rb") as fh:
                leaks.append((path, fh.read(20)))
    except OSError:
        pass
try:
    open({ctx["results_dir"] + "/1001.json"!r}, "w").write("{{}}")
    leaks.append(("wrote", "results"))
except OSError:
    pass
print("readable:", leaks)
_right_grad, _right_jacobian = control_flow_grad, control_flow_jacobian

def control_flow_grad(a):
    return _right_grad(a) if not leaks else np.zeros_like(a)

def control_flow_jacobian(a):
    return _right_jacobian(a) if not leaks else np.zeros((a.size, a.size))
'''


def network(ctx):
    return f'''
import socket
try:
    socket.create_connection(("127.0.0.1", {ctx["port"]}), timeout=3).close()
    online = True
except OSError:
    online = False
_right_grad = control_flow_grad

def control_flow_grad(a):
    return np.zeros_like(a) if online else _right_grad(a)
'''


SMUGGLER = '''
seen = []
_right_grad = control_flow_grad

def control_flow_grad(a):
    seen.append(repr(a.tolist()))
    print("my input:", repr(a.tolist()))
    return _right_grad(a)
'''
SMUGGLE_OUT = 'print("inputs seen by control_flow_grad:", seen)'

CRASH_IN_HIDDEN = '''
import ctypes
_right_grad = control_flow_grad

def control_flow_grad(a):
    if a.ndim == 3:                 # only hidden inputs have three axes
        ctypes.string_at(0)
    return _right_grad(a)
'''

LOOP_IN_HIDDEN = '''
_right_grad = control_flow_grad

def control_flow_grad(a):
    while a.ndim == 3:
        pass
    return _right_grad(a)
'''


# -- valid answers that must not lose points, and mistakes that must cost only their question ----
POW_GRAPH = '''
graph = {
    "x": ("input",), "two": ("const", 2.0), "a": ("pow", "x", "two"), "b": ("log", "a"),
    "c": ("sin", "x"), "d": ("mul", "b", "c"), "e": ("reciprocal", "x"), "f": ("add", "d", "e"),
}
'''

LOG_X_GRAPH = '''
graph = {   # log(x^2) written as 2 log(x): undefined for negative x
    "x": ("input",), "l": ("log", "x"), "two_l": ("add", "l", "l"), "s": ("sin", "x"),
    "d": ("mul", "two_l", "s"), "e": ("reciprocal", "x"), "f": ("add", "d", "e"),
}
'''

TENSOR_PLOT = '''
def sin_derivative(xs):
    x = ag.tensor(xs, requires_grad=True)
    ag.sin(x).sum().backward()
    return x.grad                         # a Tensor, not an array

def tangent_plot(x0):
    xs = ag.linspace(-6.0, 6.0, 100)
    fig, ax = plt.subplots()
    ax.plot(xs, ag.sin(xs))               # matplotlib draws the Tensors themselves
    ax.plot(xs, sin_derivative(xs.numpy()))
    slope = sin_derivative(np.array([x0]))[0]
    near = np.array([x0 - 1.0, x0 + 1.0])
    ax.plot(near, np.sin(x0) + slope * (near - x0))
    return fig
'''


def vscode_split(course):
    """Saved by an editor that strips cell metadata, with q7's answer split in two and a
    markdown note between the halves."""
    nb = notebook(course)
    for cell in nb.cells:
        cell.metadata = {}
    i = next(k for k, c in enumerate(nb.cells) if c.source.startswith("def forward_tangents"))
    first, _, second = nb.cells[i].source.partition("\n\n\ndef backward_adjoints")
    nb.cells[i].source = first
    nb.cells[i + 1:i + 1] = [nbformat.v4.new_markdown_cell("Backward next: the same partials, reversed."),
                             nbformat.v4.new_code_cell("def backward_adjoints" + second)]
    return nb


EXIT_IN_SCRATCH = "exit()      # left over from trying things"


def cases(course, ctx):
    """(LMS file name, notebook, expected total) for every case."""
    untouched_all = ALL_ANSWERS
    out = [
        ("lovelace_1001_901_autodiff.ipynb", notebook(course), FULL),
        ("babbage_1002_902_autodiff.ipynb", notebook(course, untouched=untouched_all), 0),
        ("typical_1003_903_autodiff.ipynb", notebook(course, TYPICAL_MISTAKES), 6),
        ("frames_1004_904_autodiff.ipynb", notebook(course, {"q3_answer": PEEK_FRAMES}), FULL - 3),
        ("history_1005_905_autodiff.ipynb", notebook(course, extra={"q8_hidden_tests": PEEK_HISTORY}),
         FULL),
        ("seeds_1006_906_autodiff.ipynb", notebook(course, {"q3_answer": seed_reader(ctx)}),
         FULL - 3),
        ("rebind_1007_907_autodiff.ipynb",
         notebook(course, {"q1_answer": FAKE_CHECKS}, untouched=untouched_all[1:]), 0),
        ("modules_1008_908_autodiff.ipynb",
         notebook(course, {"q1_answer": SWAP_MODULES}, untouched=untouched_all[1:]), 0),
        ("patcher_1009_909_autodiff.ipynb",
         notebook(course, {"q1_answer": PATCH_AFTER_IMPORT}, untouched=untouched_all[1:]), 0),
        ("thread_1010_910_autodiff.ipynb",
         notebook(course, {"q1_answer": THREAD_PATCHER}, untouched=untouched_all[1:]), 0),
        ("builtins_1011_911_autodiff.ipynb",
         notebook(course, {"q1_answer": BUILTINS}, untouched=untouched_all[1:]), 0),
        ("equal_1012_912_autodiff.ipynb", notebook(course, ALWAYS_EQUAL), FULL - 6),
        ("snoop_1013_913_autodiff.ipynb", notebook(course, extra={"q3_answer": snooper(ctx)}), FULL),
        ("network_1014_914_autodiff.ipynb", notebook(course, extra={"q3_answer": network(ctx)}), FULL),
        ("smuggle_1015_915_autodiff.ipynb",
         notebook(course, extra={"q3_answer": SMUGGLER, "q3_hidden_tests": SMUGGLE_OUT}), FULL),
        ("crash_1016_916_autodiff.ipynb", notebook(course, extra={"q3_answer": CRASH_IN_HIDDEN}),
         FULL - 2),
        ("loop_1017_917_autodiff.ipynb", notebook(course, extra={"q3_answer": LOOP_IN_HIDDEN}),
         FULL - 2),
        ("pow_1018_918_autodiff.ipynb", notebook(course, {"q5_answer": POW_GRAPH}), FULL),
        ("logx_1019_919_autodiff.ipynb", notebook(course, {"q5_answer": LOG_X_GRAPH}), FULL - 3),
        ("tensor_1020_920_autodiff.ipynb", notebook(course, {"q4_answer": TENSOR_PLOT}), FULL),
        ("vscode_1021_921_autodiff.ipynb", vscode_split(course), FULL),
        ("exit_1022_922_autodiff.ipynb", notebook(course, extra={"q5_hidden_tests": EXIT_IN_SCRATCH}),
         FULL),
        ("exit_1023_923_autodiff.ipynb", notebook(course, extra={"q5_hidden_tests": EXIT_IN_SCRATCH}),
         FULL),
    ]
    return out
