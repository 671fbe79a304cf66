"""Benchmark building scenarios and provisioning a class from them.

Run it from a checkout with the package installed::

    python benchmarks/bench_scenarios.py [--runs 7] [--class-size 40] [--class-runs 3]

For every scenario it builds ``--runs`` variants (seeds 1, 2, …) into a temporary
folder and reports the median build time, the median file size and the number of
records. Then it provisions a class of ``--class-size`` students on the default
scenario in a throw-away instance, as enrolling a roster does (each student's seed
file built from their own variant seed, and the working copy installed),
``--class-runs`` times, each in a fresh instance, and reports the median. The last
line of output is JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _instance import bench_app

DEFAULT_SCENARIO = "b2b-software"
BUILD_TARGET_S = 0.5
CLASS_TARGET_S = 20.0
PASSWORD = "bench-password-1"  # noqa: S105 - throw-away accounts in a temp folder


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="builds per scenario")
    parser.add_argument("--class-size", type=int, default=40, help="students")
    parser.add_argument("--class-runs", type=int, default=3, help="classes to time")
    args = parser.parse_args(argv)
    if min(args.runs, args.class_size, args.class_runs) < 1:
        parser.error("--runs, --class-size and --class-runs must be at least 1")
    return args


def records(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return sum(
            conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]  # noqa: S608
            for t in tables
        )
    finally:
        conn.close()


def bench_builds(folder: Path, runs: int) -> dict[str, dict]:
    from sandbox.scenarios import available, build_scenario

    results = {}
    for choice in available():
        build_scenario(folder / "warm-up.sqlite", choice.id, 0)  # load the data once
        times, sizes, counts = [], [], []
        for seed in range(1, runs + 1):
            path = folder / f"{choice.id}-{seed}.sqlite"
            start = time.perf_counter()
            build_scenario(path, choice.id, seed)
            times.append(time.perf_counter() - start)
            sizes.append(path.stat().st_size)
            counts.append(records(path))
        results[choice.id] = {
            "median_build_s": statistics.median(times),
            "max_build_s": max(times),
            "median_size_bytes": int(statistics.median(sizes)),
            "median_records": int(statistics.median(counts)),
        }
    return results


def provision_class(folder: Path, size: int) -> float:
    """Seconds to enroll ``size`` students (each provisioned) in a new course."""
    from sandbox.auth.service import create_user
    from sandbox.extensions import db
    from sandbox.instructor.service import create_course, enroll
    from sandbox.models.control import Role

    with bench_app(folder):
        course = create_course("Benchmark", "BENCH", scenario=DEFAULT_SCENARIO)
        students = [
            create_user(f"bench{n:03d}", PASSWORD, Role.STUDENT) for n in range(size)
        ]
        db.session.commit()
        start = time.perf_counter()
        for student in students:
            enroll(course, student)
        db.session.commit()
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-scenarios-") as tmp:
        folder = Path(tmp)
        builds = bench_builds(folder, args.runs)
        classes = [
            provision_class(folder / f"class-{n}", args.class_size)
            for n in range(args.class_runs)
        ]
    class_s = statistics.median(classes)
    default = builds[DEFAULT_SCENARIO]
    print(
        f"CRM Sandbox scenario benchmark (Python {platform.python_version()}, "
        f"{platform.machine()}), median of {args.runs} builds per scenario"
    )
    print(f"{'scenario':<18} {'build':>9} {'max':>9} {'size':>10} {'records':>8}")
    for scenario, figures in builds.items():
        print(
            f"{scenario:<18} {figures['median_build_s'] * 1000:>7.0f}ms "
            f"{figures['max_build_s'] * 1000:>7.0f}ms "
            f"{figures['median_size_bytes'] / 1024:>8.0f}KB "
            f"{figures['median_records']:>8}"
        )
    print(
        f"class of {args.class_size} on {DEFAULT_SCENARIO}: median {class_s:.2f} s "
        f"over {args.class_runs} runs ({', '.join(f'{c:.2f}' for c in classes)})"
    )
    build_ok = default["median_build_s"] <= BUILD_TARGET_S
    class_ok = class_s <= CLASS_TARGET_S
    print(
        f"targets: default build ≤ {BUILD_TARGET_S} s "
        f"{'met' if build_ok else 'MISSED'}; class of {args.class_size} ≤ "
        f"{CLASS_TARGET_S:.0f} s {'met' if class_ok else 'MISSED'}"
    )
    print(
        json.dumps(
            {
                "benchmark": "scenarios",
                "runs": args.runs,
                "scenarios": builds,
                "class_size": args.class_size,
                "class_provision_s": class_s,
                "class_provision_runs_s": classes,
                "targets_met": build_ok and class_ok,
            }
        )
    )
    return 0 if build_ok and class_ok else 1


if __name__ == "__main__":
    sys.exit(main())
