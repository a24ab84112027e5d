"""A project's rollout state on disk: the image rolled to, the one before it, and whether it is paused.

One JSON file per project and style, ``$ARCHSIM_STATE_DIR/<project>-<style>.json`` (default
``~/.local/state/archsim``), because a rollout is a foreground command and there is no
controller to hold it: ``archsim deploy pause`` (from another terminal) sets ``paused`` and the
running rollout stops at its next step boundary, ``archsim deploy resume`` clears it and continues
towards ``image``, ``archsim deploy rollback`` rolls out ``previous``. The keys:

- ``image``, ``previous``: the image the last rollout went to, and the one it came from;
- ``status``: ``running``, ``paused`` or ``complete``;
- ``paused``: a pause was asked for (``kubectl rollout pause``); a rollout started while it is set
  records its image and stops before its first step, as a paused Deployment does after
  ``kubectl set image``;
- ``retired``: old replicas out of the gateway's routes that still answer a caller's calls (see
  :mod:`.rollout`), removed once no caller names them;
- ``options``: the surge, unavailability, deadline and drain the rollout ran with, which
  ``resume`` uses again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATE_ENV = "ARCHSIM_STATE_DIR"  #: Folder of the projects' rollout state files (default ~/.local/state/archsim).


def path(project: str, style: str) -> Path:
    root = Path(os.environ.get(STATE_ENV) or Path.home() / ".local" / "state" / "archsim")
    return root / f"{project}-{style}.json"


def read(project: str, style: str) -> dict:
    """The state, or ``{}`` when nothing was recorded."""
    found = path(project, style)
    return json.loads(found.read_text(encoding="utf-8")) if found.is_file() else {}


def update(project: str, style: str, **changes) -> dict:
    """Merge ``changes`` into the state (a key set to None is dropped) and write it (an empty state
    removes the file); return the new state.

    Read, merged and written in one call, so a ``pause`` written meanwhile by another command
    survives the rollout's own updates."""
    state = {**read(project, style), **changes}
    state = {key: value for key, value in state.items() if value is not None}
    target = path(project, style)
    if not state:  # nothing left to remember
        target.unlink(missing_ok=True)
        return state
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(".tmp")
    scratch.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    scratch.replace(target)  # atomic: a reader never sees half a file
    return state


def clear(project: str, style: str) -> None:
    path(project, style).unlink(missing_ok=True)


def pause_requested(project: str, style: str) -> bool:
    return bool(read(project, style).get("paused"))
