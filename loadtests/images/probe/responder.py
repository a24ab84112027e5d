"""The tiny HTTP responder whose start-up ``archsim probe startup`` measures (stdlib only).

It prints, on stdout, the wall-clock time at which its first statement ran (``started``) and
the time its socket was listening (``listening``), then answers every GET with 200. The same file
runs as a plain process and in the probe container, so the two differ only by the platform.
Port: ``ARCHSIM_PORT`` (8080). SIGTERM ends it at once (it may be PID 1 in a container).
"""

import time

STARTED_S = time.time()

import http.server  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402


class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = http.server.HTTPServer(("0.0.0.0", int(os.environ.get("ARCHSIM_PORT", "8080"))), Answer)
    print(f"archsim-probe: started {STARTED_S:.6f}", flush=True)
    print(f"archsim-probe: listening {time.time():.6f}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
