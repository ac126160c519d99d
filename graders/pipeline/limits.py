"""What one submission may use, and how well this machine can shut it in."""
from dataclasses import dataclass, field

from . import jail


@dataclass
class Limits:
    """Resource limits for one submission (each one a command-line option)."""
    cell_timeout: float = 30.0          # seconds per cell, a test cell's checks included
    submission_timeout: float = 300.0   # wall-clock seconds for the whole notebook
    memory_mb: int = 2048               # address space of the student's process
    max_processes: int = 64             # processes and threads of the submission's uid
    max_file_mb: int = 64               # largest file it may write
    startup_timeout: float = 60.0       # for the sandboxed process to start
    max_restarts: int = 4               # restarts after a crash or timeout, per submission


@dataclass
class Isolation:
    """The jail mode this machine allows (``jail.probe``), and what it means in words."""
    mode: str = "none"
    read_only: list = field(default_factory=list)

    @property
    def lost(self):
        return list(jail.LOST.get(self.mode, []))

    def describe(self):
        if self.mode == "root":
            return ("full: each submission in its own file system (its scratch folder, Python and "
                    "the system's libraries, read-only), no network, its own PID namespace and "
                    "unprivileged uid, resource limits")
        if self.mode == "userns":
            return ("user namespaces (the grader is not root): each submission in its own file "
                    "system, no network, its own PID namespace, resource limits; lost: "
                    + "; ".join(self.lost))
        return "NONE (no root, no user namespaces); lost: " + "; ".join(self.lost)
