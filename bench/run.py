"""Benchmark autograd_lite against micrograd, PyTorch, HIPS autograd and hand-written numpy.

Run from the repository root:  ``.venv/bin/python -m bench`` (``--quick``, ``--json PATH``).

Each peer runs in its own fresh Python process (so no library's thread pool, heap or
imports disturb another's numbers), once for cases 1-3 and once more for case 4, whose
peak memory must not include anything else. autograd_lite and the numpy reference share
their cases 1-3 process and alternate samples, so that their ratio (the MLP target) sees
the same machine load. The parent process only collects the numbers, checks that every
library computed the same values, and prints the tables.
"""
import argparse
import datetime
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

if __package__ in (None, ""):               # run as a script: python bench/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench import workloads as W
else:
    from . import workloads as W

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_MARK = "BENCH_RESULT "
LIBRARY_ORDER = ["autograd_lite", "micrograd", "torch", "hips_autograd", "numpy", "bare_engine"]
ORDER = ["autograd_lite", "micrograd", "torch", "torch_1thread", "hips_autograd", "numpy",
         "bare_engine"]
LABELS = {"autograd_lite": "autograd_lite", "micrograd": "micrograd", "torch": "torch (CPU)",
          "torch_1thread": "torch, 1 thread", "hips_autograd": "HIPS autograd",
          "numpy": "numpy (by hand)", "bare_engine": "bare engine"}
CHAIN_TARGET_VS_TORCH = 0.6     # autograd_lite's time per op over torch's, same run
MLP_TARGET_RATIO = 1.10
NOISY_SPREAD = 1.3          # median more than this times the best: flag the row as noisy

# Cases 1-3 run in ``rounds`` rounds: each round starts every peer's process once, in turn,
# and takes that many samples in it (per round: chain_samples, mlp_samples).
FULL = dict(rounds=3, chain_steps=250, graphs_per_sample=8, chain_samples=9, chain_warmup=2,
            mlp_samples=20, mlp_warmup=3, deep_steps=333_334, timeout=1800)
QUICK = dict(rounds=2, chain_steps=50, graphs_per_sample=1, chain_samples=2, chain_warmup=1,
             mlp_samples=2, mlp_warmup=1, deep_steps=3_334, timeout=300)


def available_threads():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        return os.cpu_count() or 1


# ================================================================ worker side
def _interleaved_samples(runs, warmup, samples, repeat=1):
    """Seconds per call for each function in ``runs`` (name -> fn), samples interleaved.

    Every function gets ``warmup`` untimed calls, then the samples take turns (the order
    rotates each round), so that load from elsewhere on the machine falls on all of them
    alike. Each sample is the mean over ``repeat`` calls and starts after a gc.collect().
    A function that raises drops out with its error.
    """
    times, errors = {name: [] for name in runs}, {}
    for name, fn in runs.items():
        try:
            for _ in range(warmup):
                fn()
        except Exception as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
    names = [name for name in runs if name not in errors]
    for round_ in range(samples):
        shift = round_ % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            if name in errors:
                continue
            gc.collect()
            try:
                start = time.perf_counter()
                for _ in range(repeat):
                    runs[name]()
                times[name].append((time.perf_counter() - start) / repeat)
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
    return times, errors


def _as_floats(values):
    import numpy as np
    return [float(v) for v in np.concatenate([np.ravel(np.asarray(v, dtype=float))
                                              for v in values])]


def _row_for(exc):
    """A library that can't do a case says why (skipped); anything else is an error row."""
    if isinstance(exc, NotImplementedError):
        return {"status": "skipped", "note": str(exc)}
    return {"status": "error", "error": f"{type(exc).__name__}: {exc}"}


def _guarded(measure):
    try:
        return measure()
    except Exception as exc:        # report, don't hide: the table shows the error
        return _row_for(exc)


def _prepare(lib, make, check):
    """Build a library's workload and its check values, or the row saying why not."""
    try:
        fn = make(lib)
        return fn, check(lib, fn)
    except Exception as exc:
        return None, _row_for(exc)


def _measure_case(libs, make, check, warmup, samples, repeat, ops):
    runs, rows = {}, {}
    for name, lib in libs.items():
        fn, outcome = _prepare(lib, make, check)
        if fn is None:
            rows[name] = outcome
        else:
            runs[name], rows[name] = fn, {"status": "ok", "ops": ops, "check": outcome}
    times, errors = _interleaved_samples(runs, warmup, samples, repeat)
    for name in runs:
        if name in errors:
            rows[name] = {"status": "error", "error": errors[name]}
        else:
            rows[name]["times"] = times[name]
    return rows


def worker_main_cases(libs, cfg, mlp_only=False):
    """Cases 1-3 for the libraries in ``libs`` (name -> library), returned per case."""
    results = {}
    steps = cfg["chain_steps"]
    for kind in () if mlp_only else ("scalar", "vector"):
        results[kind] = _measure_case(
            libs, make=lambda lib, kind=kind: lib.chain(kind, steps),
            check=lambda lib, run: _as_floats(run()),
            warmup=cfg["chain_warmup"], samples=cfg["chain_samples"],
            repeat=cfg["graphs_per_sample"], ops=W.chain_ops(kind, steps))

    def mlp_check(lib, step):
        fresh = lib.mlp()
        return [fresh(), fresh()]          # loss before and after one update, from the same start
    results["mlp"] = _measure_case(libs, make=lambda lib: lib.mlp(), check=mlp_check,
                                   warmup=cfg["mlp_warmup"], samples=cfg["mlp_samples"],
                                   repeat=1, ops=1)
    return results


def _max_rss_mib():
    """Peak resident set size of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def worker_deep(lib, cfg):
    def measure():
        forward, backward = lib.deep(cfg["deep_steps"])
        gc.collect()
        base = _max_rss_mib()
        start = time.perf_counter()
        forward()
        forward_s = time.perf_counter() - start
        start = time.perf_counter()
        try:
            check = backward()
        except RecursionError as exc:
            return {"status": "failed", "error": f"RecursionError: {exc}",
                    "forward_s": forward_s, "failed_after_s": time.perf_counter() - start,
                    "ops": W.chain_ops("scalar", cfg["deep_steps"])}
        backward_s = time.perf_counter() - start
        peak = _max_rss_mib()
        return {"status": "ok", "forward_s": forward_s, "backward_s": backward_s,
                "baseline_rss_mib": base, "peak_rss_mib": peak, "graph_peak_mib": peak - base,
                "ops": W.chain_ops("scalar", cfg["deep_steps"]),
                "check": _as_floats(check)}
    return _guarded(measure)


def worker(args):
    cfg = QUICK if args.quick else FULL
    if args.recursion_limit:
        sys.setrecursionlimit(args.recursion_limit)
    libs = {}
    for name in args.worker.split(","):
        libs[name] = W.LIBRARIES[name]()
        libs[name].setup(args.threads)
    if args.part == "deep":
        (lib,) = libs.values()
        result = worker_deep(lib, cfg)
    else:
        result = worker_main_cases(libs, cfg, mlp_only=args.part == "mlp")
    print(RESULT_MARK + json.dumps(result), flush=True)


# ================================================================ parent side
def run_worker(name, part, args, cfg, recursion_limit=None, threads=None):
    threads = threads or args.threads
    command = [sys.executable, "-m", "bench", "--worker", name, "--part", part,
               "--threads", str(threads)]
    if args.quick:
        command.append("--quick")
    if recursion_limit:
        command += ["--recursion-limit", str(recursion_limit)]
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=cfg["timeout"])
    except subprocess.TimeoutExpired:
        return {"status": "error", "error": f"timed out after {cfg['timeout']} s"}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    if done.returncode < 0:
        why = f"process killed by signal {-done.returncode}"
    else:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        why = f"exit code {done.returncode}: {tail[0]}"
    return {"status": "error", "error": why}


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit():
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "autograd_lite"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + (" (autograd_lite/ has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info(threads):
    import numpy
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu_model(), "cpu_count": os.cpu_count(), "cpus_available": available_threads(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(), "python": platform.python_version(),
        "numpy": numpy.__version__, "torch": _version("torch"), "autograd": _version("autograd"),
        "micrograd": _version("micrograd"), "autograd_lite_commit": _git_commit(),
        "threads": threads,
    }


def is_installed(name):
    return importlib.util.find_spec(W.LIBRARIES[name].module) is not None


def _close(values, reference):
    import numpy as np
    return (len(values) == len(reference)
            and bool(np.allclose(values, reference, rtol=1e-7, atol=1e-12)))


def summarize(results):
    """Add median/best, per-op figures, ratios and agreement with numpy to every entry."""
    for case in ("scalar", "vector", "mlp"):
        rows = results["cases"][case]
        reference = rows.get("numpy", {})
        for name, row in rows.items():
            if row.get("status") != "ok":
                continue
            times = row["times"]
            row["median_s"], row["best_s"] = statistics.median(times), min(times)
            row["median_us_per_op"] = row["median_s"] / row["ops"] * 1e6
            row["best_us_per_op"] = row["best_s"] / row["ops"] * 1e6
            if reference.get("status") == "ok" and name != "numpy":
                row["agrees_with_numpy"] = _close(row["check"], reference["check"])
        lite = rows.get("autograd_lite", {})
        for name, row in rows.items():
            if row.get("status") == "ok" and lite.get("status") == "ok":
                row["time_vs_autograd_lite"] = row["best_s"] / lite["best_s"]
    deep = results["cases"]["deep"]
    reference, lite = deep.get("numpy", {}), deep.get("autograd_lite", {})
    for name, row in deep.items():
        if row.get("status") != "ok":
            continue
        if reference.get("status") == "ok" and name != "numpy":
            row["agrees_with_numpy"] = _close(row["check"], reference["check"])
        if lite.get("status") == "ok":
            row["backward_vs_autograd_lite"] = row["backward_s"] / lite["backward_s"]


def _verdict(ok):
    return "PASS" if ok else "MISS"


def _status_text(row):
    if row.get("status") == "skipped":
        return "skipped: " + row["note"]
    if row.get("status") == "not installed":
        return "not installed: skipped"
    return row.get("status", "?") + ": " + row.get("error", "")


def _agree_text(name, row):
    if name == "numpy":
        return "(the reference)"
    if "agrees_with_numpy" not in row:
        return "not checked (no numpy result)"
    return "same values" if row["agrees_with_numpy"] else "VALUES DIFFER FROM NUMPY"


def print_per_op_table(title, rows, per_op=True):
    print(title)
    unit = "us/op" if per_op else "ms/step"
    print(f"  {'library':<17}{'best ' + unit:>13}{'median ' + unit:>16}"
          f"{'time / autograd_lite':>23}  check")
    scale, key = (1.0, "us_per_op") if per_op else (1e3, "s")
    for name in ORDER:
        row = rows.get(name)
        if row is None:
            continue
        if row.get("status") != "ok":
            print(f"  {LABELS[name]:<17}{_status_text(row)}")
            continue
        ratio = row.get("time_vs_autograd_lite")
        ratio_text = f"{ratio:.2f}x" if ratio is not None else "-"
        spread = row["median_s"] / row["best_s"]
        noisy = f"; noisy: median {spread:.1f}x best" if spread > NOISY_SPREAD else ""
        print(f"  {LABELS[name]:<17}{row['best_' + key] * scale:>13.3f}"
              f"{row['median_' + key] * scale:>16.3f}{ratio_text:>23}  "
              f"{_agree_text(name, row)}{noisy}")


def _lite_vs_numpy(rows, reference="numpy"):
    lite, ref = rows.get("autograd_lite", {}), rows.get(reference, {})
    if lite.get("status") == "ok" and ref.get("status") == "ok":
        return lite["best_s"] / ref["best_s"]
    return None


def report(results, cfg):
    m = results["machine"]
    cases = results["cases"]
    print()
    print("Machine: {cpu}, {cpu_count} CPUs ({cpus_available} available); {platform}".format(**m))
    start_load, end_load = m["load_average_1min"], m.get("load_average_1min_end")
    if start_load is not None:
        print(f"Load average (1 min): {start_load:.2f} when the run started, {end_load:.2f} at "
              f"the end (the end includes the benchmark itself).")
        if start_load >= 0.5 * m["cpus_available"]:
            print("WARNING: the machine was already busy when the run started: other processes "
                  "compete for the CPUs, so times are inflated and noisy. Re-run on a quiet machine.")
    print(f"Python {m['python']}, numpy {m['numpy']}, torch {m['torch']}, "
          f"HIPS autograd {m['autograd']}, micrograd {m['micrograd']}; "
          f"autograd_lite at commit {m['autograd_lite_commit']}")
    print(f"Threads: torch.set_num_threads({m['threads']}); OPENBLAS/OMP/MKL_NUM_THREADS="
          f"{m['threads']} for every library. float64 everywhere. Date: {m['date']}")
    print(f"Mode: {'quick (small sizes; numbers are only indicative)' if results['quick'] else 'full'}."
          " Each library runs in a fresh process, except that autograd_lite, numpy and the bare"
          " engine share one and alternate samples (cases 1-3); for cases 1-3 the processes"
          f" take turns in {cfg['rounds']} rounds.")
    print("Times: best (minimum) of the samples, which is what ratios and targets use: other "
          "load on the machine only ever adds time; the median is shown to judge the noise.")
    print("Ratios: 'time / autograd_lite' > 1 means autograd_lite is faster than that library.")
    print()

    steps = cfg["chain_steps"]
    rounds = cfg["rounds"]
    sampling = (f"{rounds * cfg['chain_samples']} samples ({rounds} rounds of "
                f"{cfg['chain_samples']}), each the mean of {cfg['graphs_per_sample']} graph(s), "
                f"after {cfg['chain_warmup']} warm-up(s) in each round")
    for case, what in (("scalar", "0-d values"), ("vector", f"{W.VECTOR_SIZE}-element vectors")):
        ops = W.chain_ops(case, steps)
        title = (f"({'1' if case == 'scalar' else '2'}) {case} chain on {what}: y = relu(y*a + b) x "
                 f"{steps} = {ops} ops{' (incl. final sum)' if case == 'vector' else ''}; "
                 f"forward+backward per op; {sampling}")
        print_per_op_table(title, cases[case])
        lite = cases[case].get("autograd_lite", {})
        ratio = _lite_vs_numpy(cases[case])
        if lite.get("status") == "ok":
            vs_torch = _lite_vs_numpy(cases[case], "torch")
            verdict = (f"{vs_torch:.2f}x  {_verdict(vs_torch <= CHAIN_TARGET_VS_TORCH)}"
                       if vs_torch else "torch did not run  MISS")
            print(f"  target: autograd_lite / torch <= {CHAIN_TARGET_VS_TORCH:g}: {verdict}"
                  f";  {lite['best_us_per_op']:.2f} us/op"
                  + (f";  autograd_lite / numpy = {ratio:.2f}x" if ratio else ""))
        print()

    title = (f"(3) MLP training step: batch {W.BATCH}, {W.N_IN} -> {W.N_HIDDEN} -> {W.N_OUT}, relu, "
             f"softmax cross-entropy, forward + backward + SGD update; "
             f"{rounds * cfg['mlp_samples']} timed steps ({rounds} rounds of "
             f"{cfg['mlp_samples']}), after {cfg['mlp_warmup']} warm-up(s) in each round")
    print_per_op_table(title, cases["mlp"], per_op=False)
    ratio = _lite_vs_numpy(cases["mlp"])
    if ratio is not None:
        print(f"  target: autograd_lite / numpy <= {MLP_TARGET_RATIO}: {ratio:.3f}x  "
              f"{_verdict(ratio <= MLP_TARGET_RATIO)}")
    print()

    deep_ops = W.chain_ops("scalar", cfg["deep_steps"])
    print(f"(4) backward through a {deep_ops:,}-op chain (scalar y = relu(y*a + b) x "
          f"{cfg['deep_steps']:,}); one run per library in a fresh process; peak memory = "
          f"ru_maxrss (resource.getrusage), growth = peak minus the process's peak before the "
          f"forward pass")
    print(f"  {'library':<38}{'forward s':>10}{'backward s':>11}{'bwd / lite':>11}"
          f"{'peak RSS MiB':>14}{'growth MiB':>12}{'bytes/op':>10}  check")
    for name, label, row in _deep_rows(cases["deep"]):
        if row.get("status") == "ok":
            ratio = row.get("backward_vs_autograd_lite")
            print(f"  {label:<38}{row['forward_s']:>10.2f}{row['backward_s']:>11.2f}"
                  f"{(f'{ratio:.2f}x' if ratio else '-'):>11}{row['peak_rss_mib']:>14.0f}"
                  f"{row['graph_peak_mib']:>12.0f}"
                  f"{row['graph_peak_mib'] * 2**20 / row['ops']:>10.0f}  {_agree_text(name, row)}")
        elif row.get("status") == "failed":
            print(f"  {label:<38}{row['forward_s']:>10.2f}  FAILED in backward after "
                  f"{row['failed_after_s']:.2f} s: {row['error']}")
        else:
            print(f"  {label:<38}{_status_text(row)}")
    lite = cases["deep"].get("autograd_lite", {})
    print(f"  target: autograd_lite backpropagates {deep_ops:,} nodes without RecursionError: "
          f"{_verdict(lite.get('status') == 'ok' and lite.get('agrees_with_numpy', True))}")
    print()


def _deep_rows(deep):
    for name in ORDER:
        if name in deep:
            label = LABELS[name] + (" (default recursion limit)" if name == "micrograd" else "")
            yield name, label, deep[name]
        if name == "micrograd" and "micrograd_raised_limit" in deep:
            limit = deep["micrograd_raised_limit"].get("recursion_limit")
            yield name, f"micrograd (recursion limit {limit:,})", deep["micrograd_raised_limit"]


def _row_of(outcome, case, name):
    """One library's row of one case from a worker's outcome; a worker that failed as a
    whole gives every library its error row (a copy each, since rows are extended)."""
    return outcome[case][name] if case in outcome else dict(outcome)


def _add_round(row, new):
    """A library's row after one more round: the new samples join the earlier ones. A
    round that failed or skipped replaces the row, so the table shows it."""
    if row is None or (row.get("status") == "ok" and new.get("status") != "ok"):
        return new
    if row.get("status") != "ok":
        return row                  # the first failure stays
    row["times"] = row["times"] + new["times"]
    return row


def parent(args):
    cfg = QUICK if args.quick else FULL
    results = {"quick": args.quick, "machine": machine_info(args.threads), "settings": cfg,
               "cases": {"scalar": {}, "vector": {}, "mlp": {}, "deep": {}}}
    started = time.perf_counter()

    def progress(message):
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    installed = []
    for name in LIBRARY_ORDER:
        if is_installed(name):
            installed.append(name)
        else:
            for case in results["cases"].values():
                case[name] = {"status": "not installed"}
            progress(f"{name}: not installed, skipped")

    # Cases 1-3. autograd_lite, the numpy reference and the bare engine share one process
    # and take turns sample by sample (all run on the same numpy, so they cannot disturb each
    # other), which keeps their ratios, the MLP target among them, fair even when the
    # machine's load changes. Every other library gets a process of its own, and the
    # processes take turns in rounds: a slow or busy spell of the machine then falls on a
    # part of every library's samples, not on all of one library's (the torch target).
    groups = [[n for n in ("autograd_lite", "numpy", "bare_engine") if n in installed]]
    groups += [[n] for n in installed if n not in groups[0]]
    cases = results["cases"]
    for round_ in range(1, cfg["rounds"] + 1):
        for group in groups:
            progress(f"{' + '.join(group)}: cases 1-3, round {round_} of {cfg['rounds']}")
            outcome = run_worker(",".join(group), "main", args, cfg)
            for case in ("scalar", "vector", "mlp"):
                for name in group:
                    cases[case][name] = _add_round(cases[case].get(name),
                                                   _row_of(outcome, case, name))
            if group == ["torch"] and args.threads > 1:
                # OpenMP threads that spin-wait can make torch's step many times slower on a
                # small or busy machine; one thread shows what it does without that contention.
                progress(f"torch: case 3 again with 1 thread, round {round_}")
                outcome = run_worker("torch", "mlp", args, cfg, threads=1)
                cases["mlp"]["torch_1thread"] = _add_round(cases["mlp"].get("torch_1thread"),
                                                           _row_of(outcome, "mlp", "torch"))

    # Case 4: one fresh process per library, so that its peak memory is its own.
    for name in installed:
        progress(f"{name}: case 4 (deep chain)")
        results["cases"]["deep"][name] = run_worker(name, "deep", args, cfg)
        if name == "micrograd":
            # Its backward sorts the graph recursively: give it enough Python stack to finish.
            limit = 3 * W.chain_ops("scalar", cfg["deep_steps"]) + 10_000
            progress(f"{name}: case 4 again with sys.setrecursionlimit({limit})")
            row = run_worker(name, "deep", args, cfg, recursion_limit=limit)
            row["recursion_limit"] = limit
            results["cases"]["deep"]["micrograd_raised_limit"] = row
    progress("done")
    if hasattr(os, "getloadavg"):
        results["machine"]["load_average_1min_end"] = os.getloadavg()[0]
    results["elapsed_s"] = time.perf_counter() - started
    summarize(results)
    report(results, cfg)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        print(f"Results written to {args.json}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time autograd_lite against micrograd, PyTorch (CPU), HIPS autograd and "
                    "hand-written numpy on the same work, and print times and ratios.")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (10-30 s): checks that everything runs")
    parser.add_argument("--json", metavar="PATH", help="also save all results (raw timings "
                        "included) as JSON")
    parser.add_argument("--threads", type=int, default=available_threads(),
                        help="threads for torch and the BLAS libraries (default: all available "
                             "CPUs, %(default)s here)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)     # library names, comma-separated
    parser.add_argument("--part", choices=("main", "mlp", "deep"), default="main", help=argparse.SUPPRESS)
    parser.add_argument("--recursion-limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.worker:
        worker(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
