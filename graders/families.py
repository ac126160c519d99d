"""Named families of functions that the checks hand to a student's function.

Some questions take a function as an argument (``predicted_costs(g, n)``). A check never
sends code to the student's side: it sends a *spec*, plain data naming a family from this
public module and its coefficients, and the student's side rebuilds the function here. The
families are public; which ones a hidden test uses, and with which coefficients, is drawn
from the course's secret seed.

    spec = {"family": "sin_exp", "a": 1.0, "b": 2.0}
    f = build(spec)            # f(x) = sin(x) * exp(2 x), written with autograd_lite
    describe(spec)             # 'sin(x) * exp(2 x)'

A coefficient of exactly 1 is left out of both the formula and the computation, so
``sin_exp`` with a = b = 1 is the plain ``ag.sin(x) * ag.exp(x)``.

``"call_numbered": True`` makes the k-th call of the built function return k times its value.
A check uses it to tell, from the numbers alone, whether a function was called once.
"""
import numpy as np

import autograd_lite as ag


def _scaled(c, x):
    return x if c == 1.0 else c * x


def _formula_scaled(c, name="x"):
    return name if c == 1.0 else f"{c:g} {name}"


# name: (kind, formula(params), function(x, params))
#   kind "scalar": R -> R, "vector": R^n -> R, "map": R^n -> R^m
FAMILIES = {
    "sin_exp": ("scalar",
                lambda p: f"sin({_formula_scaled(p['a'])}) * exp({_formula_scaled(p['b'])})",
                lambda x, p: ag.sin(_scaled(p["a"], x)) * ag.exp(_scaled(p["b"], x))),
    "tanh_over_quadratic": ("scalar",
                            lambda p: f"tanh({_formula_scaled(p['a'])}) / (1 + "
                                      f"{_formula_scaled(p['b'], 'x*x')})",
                            lambda x, p: ag.tanh(_scaled(p["a"], x)) / (1 + _scaled(p["b"], x * x))),
    "log_cos": ("scalar",
                lambda p: f"log(1 + {_formula_scaled(p['a'], 'x*x')}) * cos({_formula_scaled(p['b'])})",
                lambda x, p: ag.log(1 + _scaled(p["a"], x * x)) * ag.cos(_scaled(p["b"], x))),
    "gauss_plus_sin_cubed": ("scalar",
                             lambda p: f"exp(-{_formula_scaled(p['a'], 'x*x')}) + "
                                       f"sin({_formula_scaled(p['b'])})**3",
                             lambda x, p: ag.exp(-_scaled(p["a"], x * x)) + ag.sin(_scaled(p["b"], x)) ** 3),
    "sum_x_sin": ("vector", lambda p: f"sum(x * sin({_formula_scaled(p['a'])}))",
                  lambda x, p: ag.sum(x * ag.sin(_scaled(p["a"], x)))),
    "sum_exp_over_quadratic": ("vector",
                               lambda p: f"sum(exp({_formula_scaled(p['a'])}) / (1 + x*x))",
                               lambda x, p: ag.sum(ag.exp(_scaled(p["a"], x)) / (1 + x * x))),
    "sum_tanh_squared": ("vector", lambda p: f"sum(tanh({_formula_scaled(p['a'])}) ** 2)",
                         lambda x, p: ag.sum(ag.tanh(_scaled(p["a"], x)) ** 2)),
    "sum_cubic": ("vector", lambda p: f"sum(x ** 3 - {_formula_scaled(p['a'])})",
                  lambda x, p: ag.sum(x ** 3 - _scaled(p["a"], x))),
    "sum_tanh_times_x": ("vector", lambda p: f"sum(tanh({_formula_scaled(p['a'])}) * x)",
                         lambda x, p: ag.sum(ag.tanh(_scaled(p["a"], x)) * x)),
    "sum_gauss": ("vector", lambda p: f"sum(exp(-{_formula_scaled(p['a'], 'x*x')}))",
                  lambda x, p: ag.sum(ag.exp(-_scaled(p["a"], x * x)))),
    "sum_sin_times_sum_squares": ("vector",
                                  lambda p: f"sum(sin({_formula_scaled(p['a'])})) * sum(x*x)",
                                  lambda x, p: ag.sum(ag.sin(_scaled(p["a"], x))) * ag.sum(x * x)),
    "tanh_linear": ("map", lambda p: "tanh(A @ x) for an {}-by-{} matrix A".format(*np.shape(p["A"])),
                    lambda x, p: ag.tanh(ag.tensor(p["A"]) @ x)),
}


class SpecError(ValueError):
    """A spec that names no family here, or gives it the wrong coefficients."""


def _params(spec):
    if type(spec) is not dict or type(spec.get("family")) is not str:
        raise SpecError("a function spec is a dict with a 'family' name")
    name = spec["family"]
    if name not in FAMILIES:
        raise SpecError(f"no function family called {name!r}")
    params = {}
    for key, value in spec.items():
        if key in ("family", "call_numbered"):
            continue
        if key == "A":
            value = np.array(value, dtype=float)
            if value.ndim != 2:
                raise SpecError("A is a matrix")
        elif type(value) not in (int, float):
            raise SpecError(f"the coefficient {key!r} should be a number")
        else:
            value = float(value)
        params[key] = value
    return name, params


def kind(spec):
    return FAMILIES[_params(spec)[0]][0]


def describe(spec):
    """The formula of the function a spec names, for a check's message."""
    name, params = _params(spec)
    return FAMILIES[name][1](params)


def build(spec):
    """The function a spec names, written with autograd_lite."""
    name, params = _params(spec)
    body = FAMILIES[name][2]

    def f(x):
        return body(x, params)

    if spec.get("call_numbered"):
        calls = [0]

        def numbered(x):
            calls[0] += 1
            return calls[0] * body(x, params)
        numbered.__name__ = numbered.__qualname__ = "f"
        return numbered
    f.__name__ = f.__qualname__ = "f"
    return f
