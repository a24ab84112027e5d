"""``archsim loadtest`` end to end against a real HTTP server on 127.0.0.1, no containers.

The server is a STAND-IN for the reference services: it answers the four routes the shop's
locustfile uses with the status codes and bodies the locustfile checks, after a short fixed
service time, but keeps no state and has no database (the real monolith needs PostgreSQL; see
``tests/containers/test_loadtest_measured.py`` for the real thing). Real Locust loads it through
``python -m simulator.loadtest`` (identical to ``archsim loadtest``), then ``archsim report``
charts the measured run beside a simulated one.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "styles-baseline.yaml"
LOCUSTFILE = REPO / "loadtests" / "locustfiles" / "monolith.py"
CLASSES = ("browse", "add_to_cart", "place_order", "order_status")
SERVICE_TIME_S = 0.002  #: Every stand-in response takes about this long.


class ShopStandIn(BaseHTTPRequestHandler):
    """The shop's routes with the answers the locustfile expects; no state."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the real services
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stalls

    def _answer(self, status: int, body: dict) -> None:
        time.sleep(SERVICE_TIME_S)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = self.path.strip("/").split("/")
        if parts == ["health"]:
            self._answer(200, {"status": "ok"})
        elif len(parts) == 2 and parts[0] in ("catalog", "orders"):
            self._answer(200, {"id": parts[1]})
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        parts = self.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "carts" and parts[2] == "items":
            self._answer(200, {"items": 1})
        elif len(parts) == 3 and parts[0] == "carts" and parts[2] == "order":
            self._answer(201, {"order_id": uuid.uuid4().hex})
        else:
            self._answer(404, {"error": "not found"})

    def log_message(self, *args) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # Locust drops its connections when the test stops: broken pipes are expected


def serve(port: int) -> None:
    QuietServer(("127.0.0.1", port), ShopStandIn).serve_forever()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def standin():
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, str(port)])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def loadtest(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator.loadtest", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def test_open_load_reaches_its_target_rate_and_reports_beside_a_simulation(standin, tmp_path):
    measured = tmp_path / "measured"
    done = loadtest(str(SCENARIO), "--host", standin, "--locustfile", str(LOCUSTFILE), "--duration", "12s",
                    "--set", "workload.rate=20/s", "--set", "warmup=2s", "--set", "metrics_interval=5s", "--out", str(measured), "--no-charts")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"results: {measured}" in done.stdout

    summary = json.loads((measured / "summary.json").read_text())
    assert (summary["source"], summary["status"], summary["replications"]) == ("measured", "ok", 1)
    assert (summary["duration_s"], summary["warmup_s"]) == (12.0, 2.0)
    block = summary["variants"]["measured"]
    requests = {name: block["classes"][name]["requests"]["mean"] for name in CLASSES}
    assert all(count > 0 for count in requests.values()), requests
    assert block["overall"]["errors"]["mean"] == 0
    extras = block["extras"]
    target, achieved = extras["target_rate_per_s"]["mean"], extras["achieved_rate_per_s"]["mean"]
    assert target == pytest.approx(20.0)
    assert achieved == pytest.approx(target, rel=0.25), (achieved, target)
    p95 = block["overall"]["latency_p95_s"]["mean"]
    assert SERVICE_TIME_S <= p95 < 0.5
    print(f"stand-in, open 20/s: achieved {achieved:.1f}/s, p50 {block['overall']['latency_p50_s']['mean'] * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms, late {extras['pacing']['late_share']['mean']:.1%}, requests {requests}")

    stats = (measured / "measured_stats.csv").read_text().splitlines()
    assert stats[0].startswith("Type,Name,Request Count") and any(",Aggregated," in row for row in stats)
    rows = (measured / "timeseries.csv").read_text().splitlines()
    assert rows[0].startswith("variant,replication,time_s,offered_per_s,throughput_per_s,errors_per_s,latency_p50_s")
    assert [row.split(",")[2] for row in rows[1:]] == ["5", "10", "12"]  # metrics_interval 5s; the last one is short

    simulated = tmp_path / "simulated"
    sim = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(SCENARIO), "--set", "workload.rate=20/s",
                          "--set", "duration=12s", "--set", "warmup=2s", "--replications", "1", "--variant", "monolith",
                          "--out", str(simulated), "--no-charts", "-q"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert sim.returncode == 0, sim.stderr[-2000:]
    report = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "report", str(measured), str(simulated), "--out", str(report)],
                          capture_output=True, text=True, timeout=180, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    html = (report / "report.html").read_text()
    assert "measured" in html and "monolith" in html
    assert list((report / "charts").glob("*.png")) or list((report / "charts").glob("*.svg"))


def test_interval_is_the_scenarios_metrics_interval(standin, tmp_path):
    done = loadtest(str(SCENARIO), "--host", standin, "--locustfile", str(LOCUSTFILE), "--duration", "4s",
                    "--set", "workload.rate=10/s", "--set", "metrics_interval=2s", "--out", str(tmp_path), "--no-charts")
    assert done.returncode == 0, done.stderr[-3000:]
    times = [row.split(",")[2] for row in (tmp_path / "timeseries.csv").read_text().splitlines()[1:]]
    assert times == ["2", "4"]


def test_a_remote_host_is_refused_before_anything_runs(tmp_path):
    done = loadtest(str(SCENARIO), "--host", "http://10.0.0.1:8080", "--locustfile", str(LOCUSTFILE), "--out", str(tmp_path / "x"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: --host http://10.0.0.1:8080: not a loopback address; archsim loads only this machine by default: "
        "pass --allow-remote to load a host you are entitled to test"
    ]
    assert not (tmp_path / "x").exists()


def test_closed_users_think_between_requests(standin, tmp_path):
    done = loadtest(str(SCENARIO), "--host", standin, "--locustfile", str(LOCUSTFILE), "--duration", "6s", "--set", "warmup=1s",
                    "--set", "workload={type: closed, users: 4, think_time: exp(100ms), mix: {browse: 0.6, add_to_cart: 0.25, place_order: 0.1, order_status: 0.05}}",
                    "--out", str(tmp_path), "--no-charts")
    assert done.returncode == 0, done.stderr[-3000:]
    block = json.loads((tmp_path / "summary.json").read_text())["variants"]["measured"]
    assert block["extras"]["workload_model"] == "closed" and block["extras"]["users"]["mean"] == 4
    # 4 users, each ~100 ms thinking plus a few ms per request: about 35-40 requests/s
    assert 20 < block["overall"]["offered_rate_per_s"]["mean"] < 45


if __name__ == "__main__":
    serve(int(sys.argv[1]))
