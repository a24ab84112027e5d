"""The deployment namespace: which containers, networks and labels belong to one deployment.

Every container and network of a deployment carries ``archsim.project=<name>`` and is named
``<name>-<style>-...``, so two deployments with different project names coexist on one machine
and ``archsim deploy down`` removes only its own. The name comes from ``--project``, else the
``ARCHSIM_PROJECT`` environment variable, else ``archsim``. It must be usable as a container and
DNS name: lower-case letters, digits and hyphens, starting with a letter, at most 30 characters.
"""

from __future__ import annotations

import os
import re

from simulator.errors import ArchsimError

DEFAULT_PROJECT = "archsim"  #: Used when neither ``--project`` nor ``ARCHSIM_PROJECT`` is given.
PROJECT_ENV = "ARCHSIM_PROJECT"  #: Environment variable naming the project.
PROJECT_KEY = "archsim.project"  #: Label key carrying the project name.
STYLE_KEY = "archsim.style"
ROLE_KEY = "archsim.role"
URL_KEY = "archsim.url"  #: Set on the entry point only: the deployment's URL on the host.
IMAGE_LABEL = "archsim.image=archsim"  #: Images are shared by every project: labelled apart.
MAX_LENGTH = 30
_VALID = re.compile(r"[a-z][a-z0-9-]*")


def validated(name: str) -> str:
    """``name`` if it can prefix container, network and DNS names; else a one-line :class:`ArchsimError`."""
    if not _VALID.fullmatch(name) or len(name) > MAX_LENGTH or name.endswith("-") or "--" in name:
        raise ArchsimError(
            f"--project / {PROJECT_ENV}: expected lower-case letters, digits and single hyphens, starting with a "
            f"letter, at most {MAX_LENGTH} characters; got {name!r}"
        )
    return name


def current(name: str | None = None) -> str:
    """The project to use: ``name`` if given, else ``$ARCHSIM_PROJECT``, else ``archsim``; validated."""
    return validated(name or os.environ.get(PROJECT_ENV) or DEFAULT_PROJECT)


def label(project: str) -> str:
    """The ``key=value`` filter that selects exactly this project's containers and networks."""
    return f"{PROJECT_KEY}={project}"
