"""Benchmark provisioning and resetting tenants against rebuilding them from scratch.

Run it from a checkout with the package installed::

    python benchmarks/bench_tenancy.py [--tenants 200]

It builds a throw-away instance in a temporary folder, enrolls N students (each one
builds a seed file with the scenario builder and installs the working copy), resets
every tenant the way an instructor's "reset class" does, and, as the baseline, builds
the scenario N times from the builder. The last line of output is JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from _instance import bench_app

RESET_MEDIAN_TARGET_MS = 20.0
CLASS_SIZE = 200
CLASS_RESET_TARGET_S = 5.0
PASSWORD = "bench-password-1"  # noqa: S105 - throw-away accounts in a temp folder


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tenants",
        type=int,
        default=CLASS_SIZE,
        help=f"students to provision and reset (default {CLASS_SIZE})",
    )
    parser.add_argument("--scenario", default="default", help="scenario to build")
    args = parser.parse_args(argv)
    if args.tenants < 1:
        parser.error("--tenants must be at least 1")
    return args


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": p95 * 1000,
        "total_s": sum(ordered),
    }


# ---------------------------------------------------------------------- measuring


def measure(folder: Path, tenants: int, scenario: str) -> dict:
    with bench_app(folder):
        return run_class(folder, tenants, scenario)


def run_class(folder: Path, tenants: int, scenario: str) -> dict:
    from sandbox.auth.service import create_user
    from sandbox.extensions import db
    from sandbox.instructor.service import create_course, enroll, reset_class
    from sandbox.models.control import Role
    from sandbox.scenarios import build_scenario

    # The first build loads Faker's providers; keep that one-off cost out of the runs.
    build_scenario(folder / "warm-up.sqlite", scenario, 0)

    course = create_course("Benchmark", "BENCH", scenario=scenario)
    students = [
        create_user(f"bench{n:04d}", PASSWORD, Role.STUDENT) for n in range(tenants)
    ]
    db.session.commit()

    provision = [timed(partial(enroll, course, student)) for student in students]
    db.session.commit()

    reset, class_reset_s = reset_each(course, reset_class)
    rebuild = rebuild_each(folder, course, students, build_scenario)
    return {
        "provision": provision,
        "reset": reset,
        "rebuild": rebuild,
        "class_reset_s": class_reset_s,
    }


def reset_each(course, reset_class) -> tuple[list[float], float]:
    """Reset the class as an instructor does; per-tenant times and the class total."""
    from sandbox.extensions import db

    times: list[float] = []
    mark = [time.perf_counter()]

    def lap(_tenant) -> None:
        now = time.perf_counter()
        times.append(now - mark[0])
        mark[0] = now

    start = time.perf_counter()
    reset_class(course, progress=lap)
    db.session.commit()
    return times, time.perf_counter() - start


def rebuild_each(folder: Path, course, students, build_scenario) -> list[float]:
    """The baseline: build each student's scenario from the builder again."""
    from sandbox.tenancy import derive_seed

    out = folder / "rebuild"
    out.mkdir()
    times = []
    for student in students:
        path = out / f"{student.id}.sqlite"
        seed = derive_seed(course.code, student.username)
        times.append(timed(partial(build_scenario, path, course.scenario, seed)))
        path.unlink()
    return times


# ---------------------------------------------------------------------- reporting


def key_figures(tenants: int, results: dict) -> dict:
    provision = summary(results["provision"])
    reset = summary(results["reset"])
    rebuild = summary(results["rebuild"])
    measured = tenants == CLASS_SIZE
    class_s = results["class_reset_s"] * (1 if measured else CLASS_SIZE / tenants)
    return {
        "tenants": tenants,
        "provision_median_ms": round(provision["median_ms"], 2),
        "provision_p95_ms": round(provision["p95_ms"], 2),
        "reset_median_ms": round(reset["median_ms"], 2),
        "reset_p95_ms": round(reset["p95_ms"], 2),
        "reset_total_s": round(results["class_reset_s"], 3),
        "rebuild_median_ms": round(rebuild["median_ms"], 2),
        "rebuild_p95_ms": round(rebuild["p95_ms"], 2),
        "reset_to_rebuild_ratio": round(reset["median_ms"] / rebuild["median_ms"], 4),
        f"class_{CLASS_SIZE}_reset_s": round(class_s, 3),
        f"class_{CLASS_SIZE}_measured": measured,
        "targets_met": (
            reset["median_ms"] <= RESET_MEDIAN_TARGET_MS
            and class_s <= CLASS_RESET_TARGET_S
        ),
    }


def print_report(tenants: int, scenario: str, results: dict, figures: dict) -> None:
    print(f"CRM Sandbox tenancy benchmark: {tenants} tenants, scenario {scenario!r}")
    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.machine()}"
    )
    print()
    print(f"{'per tenant':<36}{'median ms':>11}{'p95 ms':>10}{'total s':>10}")
    rows = (
        ("provision (build seed + install)", "provision"),
        ("reset (copy seed + swap)", "reset"),
        ("rebuild from builder (baseline)", "rebuild"),
    )
    for label, key in rows:
        stats = summary(results[key])
        print(
            f"{label:<36}{stats['median_ms']:>11.2f}{stats['p95_ms']:>10.2f}"
            f"{stats['total_s']:>10.3f}"
        )
    print()
    ratio = figures["reset_to_rebuild_ratio"]
    print(f"reset / rebuild (median): {ratio:.4f}  (reset is {1 / ratio:.0f}x faster)")
    print(
        f"class of {tenants} reset (reset_class + commit): "
        f"{figures['reset_total_s']:.3f} s"
    )
    print()
    class_s = figures[f"class_{CLASS_SIZE}_reset_s"]
    how = (
        "measured"
        if figures[f"class_{CLASS_SIZE}_measured"]
        else (f"scaled from {tenants}")
    )
    print("targets:")
    print(
        verdict(
            f"reset median <= {RESET_MEDIAN_TARGET_MS:.0f} ms per tenant",
            f"{figures['reset_median_ms']:.2f} ms",
            figures["reset_median_ms"] <= RESET_MEDIAN_TARGET_MS,
        )
    )
    print(
        verdict(
            f"class of {CLASS_SIZE} reset <= {CLASS_RESET_TARGET_S:.0f} s",
            f"{class_s:.3f} s ({how})",
            class_s <= CLASS_RESET_TARGET_S,
        )
    )
    print()


def verdict(target: str, value: str, met: bool) -> str:
    return f"  {target:<36}{value:<28}{'met' if met else 'NOT MET'}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    try:
        results = measure(folder, args.tenants, args.scenario)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = key_figures(args.tenants, results)
    print_report(args.tenants, args.scenario, results, figures)
    print(json.dumps(figures), flush=True)
    return 0 if figures["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
