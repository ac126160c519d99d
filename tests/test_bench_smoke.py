"""The benchmark command runs end to end (``--quick``) and reports all four cases.

Not a timed test: nothing here asserts a speed. It checks that ``python -m bench`` finishes,
prints the four tables, saves numbers for every case, and that every library that ran
computed the same values as the hand-written numpy reference (so the timings compare the
same work).
"""
import importlib.util
import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ("scalar", "vector", "mlp", "deep")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"benchmark failed:\n{done.stdout}\n{done.stderr}"
    with open(out) as f:
        return done.stdout, json.load(f)


def _positive_number(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_prints_the_four_cases_with_targets(quick_run):
    stdout, _ = quick_run
    for heading in ("(1) scalar chain", "(2) vector chain", "(3) MLP training step",
                    "(4) backward through"):
        assert heading in stdout
    assert stdout.count("target:") == 4
    for line in stdout.splitlines():
        if line.strip().startswith("target:"):
            assert "PASS" in line or "MISS" in line, line
    assert "torch.set_num_threads(" in stdout      # the thread setting is stated


def test_every_case_has_autograd_lite_and_numpy_numbers(quick_run):
    _, results = quick_run
    assert set(results["cases"]) == set(CASES)
    for case in ("scalar", "vector", "mlp"):
        for name in ("autograd_lite", "numpy"):
            row = results["cases"][case][name]
            assert row["status"] == "ok", (case, name, row)
            assert _positive_number(row["median_s"]) and _positive_number(row["best_s"])
            assert all(_positive_number(t) for t in row["times"])
        lite = results["cases"][case]["autograd_lite"]
        assert lite["time_vs_autograd_lite"] == pytest.approx(1.0)
    for name in ("autograd_lite", "numpy"):
        row = results["cases"]["deep"][name]
        assert row["status"] == "ok", (name, row)
        assert _positive_number(row["backward_s"]) and _positive_number(row["peak_rss_mib"])


def test_the_bare_engine_floor_runs_the_chains_and_skips_the_mlp(quick_run):
    _, results = quick_run
    for case in ("scalar", "vector", "deep"):
        row = results["cases"][case]["bare_engine"]
        assert row["status"] == "ok", (case, row)
        assert row["agrees_with_numpy"], (case, row.get("check"))
    mlp = results["cases"]["mlp"]["bare_engine"]
    assert mlp["status"] == "skipped" and "chains only" in mlp["note"]


def test_libraries_that_ran_computed_the_same_values(quick_run):
    _, results = quick_run
    for case, rows in results["cases"].items():
        for name, row in rows.items():
            if name == "numpy" or row.get("status") != "ok":
                continue
            assert row["agrees_with_numpy"], (case, name, row.get("check"))


def test_installed_peers_run_or_are_skipped_with_a_reason(quick_run):
    _, results = quick_run
    modules = {"torch": "torch", "hips_autograd": "autograd", "micrograd": "micrograd"}
    for name, module in modules.items():
        installed = importlib.util.find_spec(module) is not None
        for case, rows in results["cases"].items():
            row = rows[name]
            if not installed:
                assert row["status"] == "not installed"
            else:
                assert row["status"] in ("ok", "skipped", "failed"), (case, name, row)
                if row["status"] == "skipped":
                    assert row["note"]


@pytest.mark.skipif(importlib.util.find_spec("micrograd") is None, reason="micrograd not installed")
def test_micrograd_recursion_limit_is_reported_not_hidden(quick_run):
    _, results = quick_run
    deep = results["cases"]["deep"]
    assert deep["micrograd"]["status"] == "failed"
    assert "RecursionError" in deep["micrograd"]["error"]
    assert deep["micrograd_raised_limit"]["status"] == "ok"


def test_every_round_adds_its_samples_to_every_peer(quick_run):
    """Cases 1-3 run in rounds of fresh processes; each library's best is over all of them."""
    _, results = quick_run
    settings = results["settings"]
    assert settings["rounds"] >= 2
    expected = {"scalar": settings["chain_samples"], "vector": settings["chain_samples"],
                "mlp": settings["mlp_samples"]}
    for case, per_round in expected.items():
        for name, row in results["cases"][case].items():
            if row.get("status") == "ok":
                assert len(row["times"]) == settings["rounds"] * per_round, (case, name)
