"""Grading on a Dask cluster: the same per-submission function, run on Dask workers.

The workers are trusted grader processes, like the local pool's: each takes one submission at
a time and runs it exactly as ``grade.grade_submission`` does on one machine (a fresh jailed
process per notebook, the course's checks on the worker's side). Results come back as they
finish to the main process, which alone writes the cache, the gradebook and the reports.

Workers read the course, the submissions and the assignment's data files by the paths the main
process sees, so they need the same file system (a cluster's shared home or scratch, or a
volume mounted at the same path). Each worker makes its own scratch folders and probes its own
jail: a worker that is not root grades with the weaker isolation ``jail`` describes, and the
submission's log line says so.

A worker that dies while it grades a submission (killed, out of memory, its node lost) costs
that submission one more try; a second loss makes it an infrastructure error, reported as
such and never as a score. The local cluster's scheduler is told to give up on a task at the
first worker it kills (``allowed-failures`` 0) so that the one retry is ours, and to hand a
worker one task at a time (``worker-saturation`` 1.0) so that a death costs only the
submission being graded; a scheduler started by hand keeps its own settings.
"""
INSTALL = 'pip install "autograd-lite-course[grader]"  (or: pip install "dask[distributed]")'


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise SystemExit(f"grading on a Dask cluster needs dask.distributed, which is not installed: "
                         f"{INSTALL}") from None
    return distributed


class DaskExecutor:
    """Grades jobs on a Dask cluster: an existing scheduler (``address``) or a LocalCluster of
    ``n_workers`` processes started here and stopped by ``close``."""

    def __init__(self, address=None, n_workers=None, require_isolation=False):
        distributed = _import_distributed()
        import dask
        self.cluster = None
        if address is None:
            # saturation 1.0: a worker holds only the submission it grades, so its death costs
            # no queued submission a try
            with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                  "distributed.scheduler.worker-saturation": 1.0}):
                # one thread per worker: each grades one submission at a time, as a pool worker
                self.cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                                        processes=True, dashboard_address=None)
            address = self.cluster.scheduler_address
        try:
            self.client = distributed.Client(address, timeout="30s")
        except OSError as exc:
            self.close()
            raise SystemExit(f"cannot reach the Dask scheduler at {address}: {exc} (start one with "
                             f"`dask scheduler`, or give --dask-cluster N for one on this machine)")
        self.address, self.require_isolation = address, require_isolation

    def worker_pids(self):
        """{worker address: pid} (for the log, and for tests that lose a worker on purpose)."""
        import os
        return self.client.run(os.getpid)

    def grade(self, jobs, log=print):
        """Yield (job, result) as each submission finishes, in any order."""
        from distributed import as_completed
        from .grade import _failed_result, grade_submission
        if not jobs:
            return
        own, count = {}, [0]

        def submit(job):
            # Each task carries its whole job, as the local pool's do: data scattered once would
            # live on workers, and a retry after they die would find it gone.
            count[0] += 1
            fut = self.client.submit(grade_submission, {**job, "require_isolation": self.require_isolation},
                                     pure=False,
                                     key=f"grade-{job['student_id']}-{count[0]}")
            own[fut] = job
            return fut

        tries = {}
        pending = as_completed([submit(job) for job in jobs])
        for fut in pending:
            job = own.pop(fut)
            try:
                res = fut.result()
            except Exception as exc:        # noqa: BLE001 - a lost worker: retry once, then report
                tries[job["student_id"]] = tries.get(job["student_id"], 0) + 1
                if tries[job["student_id"]] < 2:
                    log(f"{job['student_id']}: grading failed on its worker "
                        f"({type(exc).__name__}: {exc}); grading it again")
                    pending.add(submit(job))
                    continue
                res = _failed_result(job, exc)
            finally:
                fut.release()
            yield job, res

    def close(self):
        if getattr(self, "client", None) is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

