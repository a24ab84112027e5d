"""Per-task result files under a run directory, and the record of how the run was started.

``<run dir>/tasks/<variant>/replication-<r>.json`` is written (atomically) as soon as that task
finishes, so a run killed at any moment keeps every finished task; ``tasks/run.json`` records the
scenario file and the options of the run, which is all ``archsim run --resume DIR`` needs to
rebuild the same tasks and skip the finished ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ArchsimError
from ..results.rundir import atomic_write
from .tasks import Task

RUN_FILE = "run.json"


class TaskStore:
    """The ``tasks/`` folder of one run directory."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.folder = self.run_dir / "tasks"

    def path(self, task: Task) -> Path:
        return self.folder / task.variant / f"replication-{task.replication}.json"

    def write(self, task: Task, result: dict[str, Any]) -> None:
        """Keep one finished task (its result as JSON data, see :func:`.tasks.result_to_json`)."""
        record = {"task": task.key, "fingerprint": task.fingerprint, "result": result}
        atomic_write(self.path(task), json.dumps(record, separators=(",", ":")))

    def read(self, task: Task) -> dict[str, Any] | None:
        """The stored result of ``task``, or None if it has none, a damaged one or one of another
        scenario or version (different fingerprint): such a task is run again."""
        try:
            record = json.loads(self.path(task).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("fingerprint") != task.fingerprint or not isinstance(record.get("result"), dict):
            return None
        return record["result"]

    def write_run(self, options: dict[str, Any]) -> None:
        """Record the scenario file and options (``--set``, ``--seed``, ...) the run was started with."""
        atomic_write(self.folder / RUN_FILE, json.dumps(options, indent=2) + "\n")

    def read_run(self) -> dict[str, Any]:
        """The options recorded by :meth:`write_run`; one line naming the directory if there are none."""
        path = self.folder / RUN_FILE
        try:
            options = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ArchsimError(f"--resume {self.run_dir}: not a run directory of archsim run (no tasks/{RUN_FILE})") from None
        except (OSError, ValueError) as exc:
            raise ArchsimError(f"--resume {self.run_dir}: tasks/{RUN_FILE} is damaged ({exc.__class__.__name__}); start the run again") from None
        if not isinstance(options, dict) or not isinstance(options.get("file"), str):
            raise ArchsimError(f"--resume {self.run_dir}: tasks/{RUN_FILE} does not name a scenario file; start the run again")
        return options
