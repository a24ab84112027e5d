"""A plain process: the responder started with this machine's Python, as ``fork`` + ``exec``.

``created`` is when :class:`subprocess.Popen` returned (the child exists and has exec'd), and
``started``/``listening`` are the responder's own stamps. The interpreter runs isolated (``-I``:
no user site, no ``PYTHON*`` variables), so it imports only the standard library.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from simulator.deploy.images import loadtests_dir
from simulator.deploy.lifecycle import free_port

from .phases import StartUp, first_answer, stamps

TIMEOUT_S = 30.0


def responder() -> Path:
    return loadtests_dir() / "images" / "probe" / "responder.py"


def start_once() -> StartUp:
    """Start the responder as a process, wait for its first 200, stop it; return the moments."""
    port = free_port()
    script = responder()
    startup = StartUp(notes={"interpreter": f"{sys.executable} (Python {sys.version.split()[0]})"})
    startup.mark("asked")
    child = subprocess.Popen([sys.executable, "-I", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env={**os.environ, "ARCHSIM_PORT": str(port)}, text=True)
    startup.mark("created")
    try:
        startup.mark("answered", first_answer("127.0.0.1", port, time.time() + TIMEOUT_S,
                                              alive=lambda: f"the responder exited ({child.returncode})" if child.poll() is not None else None))
    finally:
        child.terminate()
        try:
            out, _ = child.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            out, _ = child.communicate()
    for moment, at_s in stamps(out.splitlines()).items():
        startup.mark(moment, at_s)
    return startup
