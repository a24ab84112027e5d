"""Real load-test targets the tests start and stop themselves, each on a free loopback port.

- :class:`Nginx`: Debian's nginx with a generated configuration (prefix in a temporary folder,
  ``daemon off``, ``listen 127.0.0.1:<free port>``, access log off), never the system service;
  ``/`` answers 200, ``/missing`` 404, ``/echo`` 200 with a small body.
- :class:`StallServer`: a tiny HTTP/1.1 server (this file, run as a script) that answers at once
  except during one stall: every request arriving in ``[stall_at_s, stall_at_s + stall_s)`` after
  its first request is held until the stall ends. nginx cannot stall by itself.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location = / {{ return 200 "ok\\n"; }}
        location = /missing {{ return 404; }}
        location / {{ return 200 "{{\\"ok\\": true}}\\n"; }}
    }}
}}
"""


def free_port() -> int:
    """A port nothing listens on right now (bound to 0 and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


class Nginx:
    """``with Nginx(tmp_path) as server: server.url``; :meth:`kill` stops it mid-test."""

    def __init__(self, folder: Path):
        self.prefix = Path(folder) / "nginx"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        self.prefix.mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=self.prefix, port=self.port))
        self.process = subprocess.Popen([NGINX, "-p", str(self.prefix), "-c", str(conf)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_listening(self.port)
        return self

    def kill(self) -> None:
        """Stop nginx at once (master and worker): the target dies."""
        if self.process is not None and self.process.poll() is None:
            try:
                import os

                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)

    def __enter__(self) -> "Nginx":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()


class StallServer:
    """The stalling server of this file in a subprocess: ``with StallServer(at, for_s) as s: s.url``."""

    def __init__(self, stall_at_s: float, stall_s: float):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [str(self.port), str(stall_at_s), str(stall_s)]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "StallServer":
        self.process = subprocess.Popen([sys.executable, __file__, *self.args])
        wait_listening(self.port)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _serve_stalling(port: int, stall_at_s: float, stall_s: float) -> None:
    first: list[float] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            now = time.monotonic()
            with lock:
                if not first and self.path != "/health":
                    first.append(now)
            if first:
                start, end = first[0] + stall_at_s, first[0] + stall_at_s + stall_s
                if start <= now < end:
                    time.sleep(end - now)
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

        def handle_error(self, request, client_address) -> None:
            pass  # Locust drops its connections when the test stops

    Server(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    _serve_stalling(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]))
