"""Benchmark a whole class working at once against one waitress server.

Run it from a checkout with the package installed::

    python benchmarks/bench_classroom.py [--students 200] [--rounds 5] [--threads 4]

It builds a throw-away instance with one course of N students (each with a
provisioned CRM), starts ``crm-sandbox serve`` in a separate process on a free
loopback port, and has every student log in through the real form. Then it runs two
phases of the same work (search the account list, open an account, open the
new-account form, save a new account):

* capacity: every student repeats the work with no pause, which saturates the
  server; the figure is requests per second;
* classroom: every student pauses a few seconds before each click (the think time),
  as a class does; the figures are the latencies students see.

As the baseline it fetches a static file as many times at the same concurrency, in
the same run, so the ratio holds on a noisy machine. It also prints the CPU time a
request cost the server process and the load client in the capacity phase: the two
share this machine's cores, so the capacity alone does not tell the server's part.
Afterwards it counts every student's accounts to prove no write was lost. The last
line of output is JSON.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox.config import SERVER_THREADS

PASSWORD = "bench-password-1"  # noqa: S105 - throw-away accounts in a temp folder
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
P95_TARGET_MS = 1000.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of work a phase")
    parser.add_argument(
        "--think", type=float, default=3.0, help="mean seconds between clicks"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=SERVER_THREADS,
        help="server threads (default: as crm-sandbox serve)",
    )
    args = parser.parse_args(argv)
    if min(args.students, args.rounds, args.threads) < 1 or args.think < 0:
        parser.error("--students, --rounds, --threads >= 1 and --think >= 0")
    return args


def build_class(instance: Path, students: int) -> dict[str, Path]:
    """An instance with one course of ``students``; returns username -> tenant file."""
    from sandbox import create_app
    from sandbox.auth.service import create_user
    from sandbox.extensions import db
    from sandbox.instructor.service import create_course, enroll
    from sandbox.models.control import Role

    app = create_app(
        {"INSTANCE_PATH": str(instance), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    )
    with app.app_context():
        db.create_all(bind_key=None)
        course = create_course("Bench", "BENCH")
        files = {}
        for n in range(students):
            user = create_user(f"s{n:03d}", PASSWORD, Role.STUDENT)
            tenant = enroll(course, user)
            files[user.username] = instance / tenant.file_path
        db.session.commit()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return files


class Server:
    """``crm-sandbox serve`` in its own process, so clients and server share no GIL."""

    def __init__(self, instance: Path, threads: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox",
                "--instance",
                str(instance),
                "serve",
                "--port",
                "0",
                "--threads",
                str(threads),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = ""
        deadline = time.monotonic() + 60
        for line in self.process.stdout:
            found = re.search(r"running at (http://\S+?)/", line)
            if found:
                self.url = found.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.stop()
            raise RuntimeError("the server did not start")
        # Keep reading so the server never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used (``/proc``; None elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().split(")")[-1]
        except OSError:
            return None
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Student:
    """One student's browser: its own cookies, its own pace."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.username = username
        self.think = 0.0
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.rnd = random.Random(username)  # noqa: S311 - pacing, not secrets
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def request(self, kind: str, path: str, data: dict | None = None) -> str:
        if self.think:
            time.sleep(self.rnd.uniform(0.5 * self.think, 1.5 * self.think))
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        start = time.perf_counter()
        with self.opener.open(self.base + path, data=body, timeout=120) as response:
            text = response.read().decode()
        self.timings[kind].append(time.perf_counter() - start)
        return text

    def log_in(self) -> None:
        token = TOKEN.search(self.request("login form", "/auth/login")).group(1)
        form = {"username": self.username, "password": PASSWORD, "csrf_token": token}
        if "Workbench" not in self.request("log in", "/auth/login", form):
            raise RuntimeError(f"{self.username} could not log in")

    def work(self, round_no: int) -> None:
        self.request("account list (search)", "/crm/accounts/?q=an&sort=revenue")
        self.request("account detail", f"/crm/accounts/{1 + round_no % 50}")
        token = TOKEN.search(self.request("new-account form", "/crm/accounts/new"))
        form = {
            "name": f"{self.username} bench deal {round_no}",
            "account_type": "customer",
            "csrf_token": token.group(1),
        }
        # The save is a POST and the redirect to the new account's page.
        if "bench deal" not in self.request(
            "save + redirect", "/crm/accounts/new", form
        ):
            raise RuntimeError(f"{self.username}'s account {round_no} was not saved")


def run_phase(
    students: list[Student], rounds: int, think: float, first_round: int
) -> tuple[dict[str, list[float]], float]:
    """Every student does ``rounds`` rounds at once; returns timings and wall time."""
    barrier = threading.Barrier(len(students))

    def session(student: Student) -> None:
        student.timings, student.think = defaultdict(list), think
        barrier.wait()
        for round_no in range(first_round, first_round + rounds):
            student.work(round_no)

    with ThreadPoolExecutor(len(students)) as pool:
        start = time.perf_counter()
        list(pool.map(session, students))
        wall = time.perf_counter() - start
    merged: dict[str, list[float]] = defaultdict(list)
    for student in students:
        for kind, seconds in student.timings.items():
            merged[kind].extend(seconds)
    return merged, wall


def static_baseline(base: str, count: int, concurrency: int) -> list[float]:
    def fetch(_n: int) -> float:
        start = time.perf_counter()
        with urllib.request.urlopen(f"{base}/static/css/app.css", timeout=120) as r:
            r.read()
        return time.perf_counter() - start

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(fetch, range(count)))


def stats(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": p95 * 1000,
    }


def lost_writes(files: dict[str, Path], expected: int) -> int:
    lost = 0
    for name, path in files.items():
        conn = sqlite3.connect(path)
        try:
            saved = conn.execute(
                "SELECT count(*) FROM account WHERE name LIKE ?",
                (f"{name} bench deal %",),
            ).fetchone()[0]
        finally:
            conn.close()
        lost += expected - saved
    return lost


def run(args: argparse.Namespace, folder: Path) -> dict:
    instance = folder / "instance"
    print(f"Building a class of {args.students} students …", flush=True)
    files = build_class(instance, args.students)
    server = Server(instance, args.threads)
    try:
        students = [Student(server.url, name) for name in files]
        with ThreadPoolExecutor(args.students) as pool:
            list(pool.map(Student.log_in, students))
        print("Capacity phase (no pauses) …", flush=True)
        server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
        capacity, capacity_wall = run_phase(students, args.rounds, 0.0, 0)
        client_cpu = time.process_time() - client_cpu
        if server_cpu is not None:
            server_cpu = server.cpu_seconds() - server_cpu
        print(f"Classroom phase ({args.think:g} s mean think time) …", flush=True)
        classroom, classroom_wall = run_phase(
            students, args.rounds, args.think, args.rounds
        )
        requests = sum(len(v) for v in capacity.values())
        baseline = static_baseline(server.url, requests, args.students)
    finally:
        server.stop()
    return {
        "classroom": {k: stats(v) for k, v in classroom.items()},
        "capacity": {k: stats(v) for k, v in capacity.items()},
        "baseline": stats(baseline),
        "capacity_rps": requests / capacity_wall,
        # CPU a request cost the server and the load client in the capacity phase:
        # both share this machine's cores, so the capacity is not the server's alone.
        "server_cpu_ms": None if server_cpu is None else 1000 * server_cpu / requests,
        "client_cpu_ms": 1000 * client_cpu / requests,
        "classroom_rps": sum(len(v) for v in classroom.values()) / classroom_wall,
        "lost_writes": lost_writes(files, 2 * args.rounds),
    }


def table(title: str, rows) -> None:
    print(f"\n{title}")
    print(f"  {'request':26} {'n':>6} {'median ms':>10} {'p95 ms':>9}")
    for kind, s in rows:
        print(f"  {kind:26} {s['n']:>6} {s['median_ms']:>10.1f} {s['p95_ms']:>9.1f}")


def report(args: argparse.Namespace, result: dict) -> dict:
    print(
        f"\nCRM Sandbox classroom benchmark: {args.students} students, "
        f"{args.rounds} rounds a phase, {args.threads} server threads"
    )
    print(
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    )
    table(
        f"classroom phase ({args.think:g} s mean think time)",
        result["classroom"].items(),
    )
    table(
        "capacity phase (no pauses)",
        [*result["capacity"].items(), ("static file (baseline)", result["baseline"])],
    )
    classroom_p95 = max(s["p95_ms"] for s in result["classroom"].values())
    page_median = statistics.median(s["median_ms"] for s in result["capacity"].values())
    ratio = page_median / result["baseline"]["median_ms"]
    met = result["lost_writes"] == 0 and classroom_p95 <= P95_TARGET_MS
    server_ms = result["server_cpu_ms"]
    if server_ms is not None:
        print(
            f"\nCPU a request cost in the capacity phase: server {server_ms:.1f} ms "
            f"(one core of it would serve {1000 / server_ms:.0f} requests/s), "
            f"load client {result['client_cpu_ms']:.1f} ms, on the same "
            f"{os.cpu_count()} cores"
        )
    print(
        f"\ncapacity: {result['capacity_rps']:.0f} requests/s; "
        f"classroom load: {result['classroom_rps']:.0f} requests/s\n"
        f"saturated CRM page median / static file median: {ratio:.1f}\n"
        f"lost writes: {result['lost_writes']}\n"
        f"target: no lost write, classroom p95 <= {P95_TARGET_MS:.0f} ms for every "
        f"kind of request: {'met' if met else 'NOT met'}\n"
    )
    return {
        "students": args.students,
        "rounds": args.rounds,
        "threads": args.threads,
        "think_s": args.think,
        "classroom_worst_p95_ms": round(classroom_p95, 1),
        "classroom_rps": round(result["classroom_rps"], 1),
        "capacity_rps": round(result["capacity_rps"], 1),
        "server_cpu_ms_per_request": None if server_ms is None else round(server_ms, 2),
        "client_cpu_ms_per_request": round(result["client_cpu_ms"], 2),
        "saturated_page_median_ms": round(page_median, 1),
        "static_median_ms": round(result["baseline"]["median_ms"], 1),
        "page_to_static_ratio": round(ratio, 2),
        "lost_writes": result["lost_writes"],
        "targets_met": met,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="crm-sandbox-bench-"))
    try:
        figures = report(args, run(args, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures))
    return 0 if figures["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
