"""Benchmark CRM pages against bare reference pages served by the same server.

Run it from a checkout with the package installed::

    python benchmarks/bench_pages.py [--quick] [--rounds 3] [--duration 5]
        [--threads 4] [--connections 50] [--tenants 500] [--client auto]
    python benchmarks/bench_pages.py --profile accounts [--requests 300]

It builds a throw-away instance in a temporary folder: one course, the student whose
CRM the pages open (the default scenario; one account is edited a few times so its
detail page has a timeline) and filler students up to ``--tenants`` tenants. Then it
starts one waitress server in a separate process, with the same thread count as
``crm-sandbox serve`` (``SERVER_THREADS``, 4), serving two WSGI apps side by side
through werkzeug's ``DispatcherMiddleware``:

* the product, ``create_app()`` as ``crm-sandbox serve`` runs it;
* under ``/__ref/`` the *reference pages*: for each page, plain ``sqlite3`` on the
  same tenant file (a connection opened per request, as the product's ``NullPool``
  does) and one Jinja template compiled at start-up, showing the same rows and the
  same total. It is the floor a page could cost in Python: what the product spends
  above it is the framework, the ORM, sessions, translations and template helpers.

Every page is first fetched once from both sides and checked to show the same records
(by name), so a redirect to the login form can never pass for a fast page. Then the
same load client drives both, alternating product and reference (and swapping which
goes first every round): Debian's ``wrk`` where installed (``-t 2 -c 50 --latency``,
the session cookie sent as a header), otherwise a Python client of the same shape
(processes x threads with keep-alive connections). Each figure is the median over the
rounds; the ratio is product requests/s over reference requests/s.

Every page's p50 is also divided by the p50 of the 50-row account list measured in the
same run, so pages with no reference (a 10,000-lead list, search, kanban, reports)
can be held to "p50 within 2x of the account list" (issue #7's report pages and
service views, on a tenant with 10,000 opportunities, 5,000 cases and 20,000
activities: within 3x). Those pages are *paired*: the yardstick is measured right
beside each of them in every round, alternating which goes first, and each is
judged against its own yardstick runs. The workbench, on both tenants, is measured
the same way with no target of its own.

Last, the memory: every filler student logs in and opens their CRM once, so the server
has opened every tenant, and the server's resident memory (``VmRSS`` from
``/proc/<pid>/status``) is read. Filler tenants are copies of one seed file (the
tenancy module's seed cache, one variant seed for all), which keeps a 500-tenant
build to a few seconds; memory does not depend on what the rows say.

Adding a page is one entry in ``PAGES``: the product URL, and optionally a reference
(a query function and a template) or a p50 limit against the yardstick. A page that
needs other data names its own student in ``STUDENTS`` with a function that prepares
that student's tenant. The last line of output is JSON.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.config import SERVER_THREADS

PASSWORD = "bench-password-1"  # noqa: S105 - throw-away accounts in a temp folder
USER_AGENT = "crm-sandbox-bench"  # the same for login and load (session protection)
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REF_PREFIX = "/__ref"
RATIO_TARGET = 0.5
RSS_TARGET_MB = 300.0
RSS_TENANTS = 500
YARDSTICK = "accounts-50"
DETAIL_ACCOUNT = 1
TIMELINE_EDITS = 12
FILLER_SEED = 424242


# ------------------------------------------------------------- reference pages

HEAD = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }} · CRM Sandbox</title>
<link rel="stylesheet" href="/static/css/app.css"></head><body>
<nav><a href="/">Workbench</a> <a href="/crm/accounts/">Accounts</a>
<a href="/crm/contacts/">Contacts</a></nav><main><h1>{{ title }}</h1>
"""
FOOT = "</main></body></html>\n"

ACCOUNT_LIST = (
    HEAD
    + """<table class="table"><thead><tr><th>Account name</th><th>Account type</th>
<th>Industry</th><th>City</th><th>Owner</th><th>Annual revenue</th></tr></thead><tbody>
{% for a in rows %}<tr><td><a href="/crm/accounts/{{ a.id }}">{{ a.name }}</a></td>
<td>{{ a.account_type }}</td><td>{{ a.industry or '' }}</td><td>{{ a.city or '' }}</td>
<td>{{ a.owner or '' }}</td><td>{{ '{:,.2f}'.format(a.annual_revenue / 100)
 if a.annual_revenue is not none else '' }}</td></tr>
{% endfor %}</tbody></table><p>{{ total }} records · page 1</p>
"""
    + FOOT
)

CONTACT_LIST = (
    HEAD
    + """<table class="table"><thead><tr><th>Name</th><th>Job title</th><th>Account</th>
<th>Email</th><th>Phone</th></tr></thead><tbody>
{% for c in rows %}<tr><td><a href="/crm/contacts/{{ c.id }}">{{ c.first_name or '' }}
 {{ c.last_name }}</a></td><td>{{ c.title or '' }}</td><td>{% if c.account_id %}
<a href="/crm/accounts/{{ c.account_id }}">{{ c.account_name }}</a>{% endif %}</td>
<td>{{ c.email or '' }}</td><td>{{ c.phone or '' }}</td></tr>
{% endfor %}</tbody></table><p>{{ total }} records · page 1</p>
"""
    + FOOT
)

ACCOUNT_DETAIL = (
    HEAD
    + """<dl>{% for key, value in account.items() %}<dt>{{ key }}</dt>
<dd>{{ value if value is not none else '—' }}</dd>{% endfor %}</dl>
<h2>Contacts</h2><table class="table"><tbody>
{% for c in contacts %}<tr><td><a href="/crm/contacts/{{ c.id }}">
{{ c.first_name or '' }} {{ c.last_name }}</a></td><td>{{ c.title or '' }}</td>
<td>{{ c.email or '' }}</td><td>{{ c.phone or '' }}</td></tr>{% endfor %}
</tbody></table>
<h2>History</h2><ol>{% for e in history %}<li><div>{{ e.at }} · {{ e.actor }}</div>
<div>{{ e.entity }} #{{ e.entity_id }} {{ e.action }}</div><ul>
{% for field, change in e.changes.items() %}<li>{{ field }}: {{ change[0] }} →
 {{ change[1] }}</li>{% endfor %}</ul></li>{% endfor %}</ol>
"""
    + FOOT
)


def _rows(conn: sqlite3.Connection, sql: str, *params) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def account_list(per_page: int) -> Callable[[sqlite3.Connection], dict]:
    """Page 1 of the account list in its default sort (by name), and the total."""

    def query(conn: sqlite3.Connection) -> dict:
        rows = _rows(
            conn,
            "SELECT a.id, a.name, a.account_type, a.industry, a.city,"
            " o.name AS owner, a.annual_revenue"
            " FROM account a LEFT JOIN colleague o ON o.id = a.owner_id"
            " ORDER BY a.name LIMIT ?",
            per_page,
        )
        total = conn.execute("SELECT count(*) FROM account").fetchone()[0]
        return {
            "title": "Accounts",
            "rows": rows,
            "total": total,
            "expect": [r["name"] for r in rows],
        }

    return query


def contact_list(conn: sqlite3.Connection) -> dict:
    """Page 1 of the contact list (by last name, with the account), and the total."""
    per_page = 20
    rows = _rows(
        conn,
        "SELECT c.id, c.first_name, c.last_name, c.title, c.email, c.phone,"
        " c.account_id, a.name AS account_name"
        " FROM contact c LEFT JOIN account a ON a.id = c.account_id"
        " ORDER BY c.last_name LIMIT ?",
        per_page,
    )
    total = conn.execute(
        "SELECT count(*) FROM contact c LEFT JOIN account a ON a.id = c.account_id"
    ).fetchone()[0]
    # Last names, not full names: rows tied on the sort key may come in either order.
    return {
        "title": "Contacts",
        "rows": rows,
        "total": total,
        "expect": [r["last_name"] for r in rows],
    }


def account_detail(conn: sqlite3.Connection) -> dict:
    """One account, its contacts and its timeline (the 50 newest audit rows)."""
    account = _rows(conn, "SELECT * FROM account WHERE id = ?", DETAIL_ACCOUNT)[0]
    contacts = _rows(
        conn,
        "SELECT id, first_name, last_name, title, email, phone FROM contact"
        " WHERE account_id = ? ORDER BY last_name",
        DETAIL_ACCOUNT,
    )
    history = _rows(
        conn,
        "SELECT at, actor, entity, entity_id, action, changes FROM audit_log"
        " WHERE entity = 'account' AND entity_id = ? ORDER BY at DESC, id DESC"
        " LIMIT 50",
        DETAIL_ACCOUNT,
    )
    for entry in history:
        entry["changes"] = json.loads(entry["changes"] or "{}")
    notes = [
        change[1]
        for entry in history
        for field_name, change in entry["changes"].items()
        if field_name == "description"
    ]
    return {
        "title": account["name"],
        "account": account,
        "contacts": contacts,
        "history": history,
        "expect": [account["name"], *(c["last_name"] for c in contacts), *notes],
    }


# ------------------------------------------------------------------ the page table


@dataclass(frozen=True)
class Reference:
    """A reference page: a query on the tenant file and the template showing it.

    ``query(conn)`` returns the template's context; its ``expect`` entry lists texts
    both pages must show (checked once before the load).
    """

    query: Callable[[sqlite3.Connection], dict]
    template: str


@dataclass(frozen=True)
class Page:
    """One page to measure: its product URL and what it is compared with."""

    key: str  # short name: JSON keys and the reference URL /__ref/<key>
    label: str
    path: str  # the product URL
    reference: Reference | None = None
    min_ratio: float | None = None  # target: product req/s over reference req/s
    max_p50_vs_yardstick: float | None = None  # target: p50 over the yardstick's p50
    student: str = "bench"  # whose CRM the page opens (a key of STUDENTS)
    #: Measure the yardstick right beside this page in every round (alternating
    #: which goes first) and judge the page against those runs, so a change of
    #: machine load during the run moves both sides alike.
    paired: bool = False


BIG_PAGES_LIMIT = 2.0  # p50 within 2x of the 50-row account list

PAGES = (
    Page(
        "accounts",
        "account list (20 rows)",
        "/crm/accounts/",
        Reference(account_list(20), ACCOUNT_LIST),
        min_ratio=RATIO_TARGET,
    ),
    Page(
        YARDSTICK,
        "account list (50 rows)",
        "/crm/accounts/?per_page=50",
        Reference(account_list(50), ACCOUNT_LIST),
    ),
    Page(
        "contacts",
        "contact list (20 rows)",
        "/crm/contacts/",
        Reference(contact_list, CONTACT_LIST),
        min_ratio=RATIO_TARGET,
    ),
    Page(
        "account-detail",
        "account detail + timeline",
        f"/crm/accounts/{DETAIL_ACCOUNT}",
        Reference(account_detail, ACCOUNT_DETAIL),
        min_ratio=RATIO_TARGET,
    ),
    # The page every student opens first: measured beside the yardstick, with no
    # target of its own (no issue sets one).
    Page("workbench", "workbench", "/"),
    # A tenant with 10,000 leads and 2,000 opportunities: the cost of these pages
    # must follow the page shown, not the table.
    Page(
        "leads-10k",
        "lead list, 10,000 leads",
        "/crm/leads/",
        max_p50_vs_yardstick=BIG_PAGES_LIMIT,
        student="big",
    ),
    Page(
        "leads-search",
        "lead search, 10,000 leads",
        "/crm/leads/?q=Lead+0042",
        max_p50_vs_yardstick=BIG_PAGES_LIMIT,
        student="big",
    ),
    Page(
        "pipeline-2k",
        "kanban, 2,000 opportunities",
        "/crm/opportunities/pipeline",
        max_p50_vs_yardstick=BIG_PAGES_LIMIT,
        student="big",
    ),
)


# Issue #7: on a tenant with 10,000 opportunities, 5,000 cases and 20,000
# activities, each report page, the calendar's month view and the service views
# keep p50 within 3x of the 50-row account list.
ISSUE7_LIMIT = 3.0
REPORT_PAGES = (
    ("pipeline", "pipeline by stage"),
    ("won-by-month", "won sales by month"),
    ("competitors", "win/loss by competitor"),
    ("lead-sources", "leads by source"),
    ("campaign-roi", "campaign ROI"),
    ("cases", "cases and SLA"),
    ("activities", "activities by colleague"),
    ("customers-industry", "customers by industry"),
    ("customers-region", "customers by region"),
    ("customers-source", "customers by source"),
    ("7p", "7P: Profiling tab"),
    ("7p?p=profitability", "7P: Profitability tab"),
)
SERVICE_VIEWS = (
    "all",
    "mine",
    "unassigned",
    "callback",
    "analysis",
    "overdue",
    "escalated",
)
PAGES += (
    tuple(
        Page(
            f"report-{key.replace('?p=', '-')}",
            f"report: {label}",
            f"/crm/reports/{key}{'&' if '?' in key else '?'}period=all",
            max_p50_vs_yardstick=ISSUE7_LIMIT,
            student="issue7",
            paired=True,
        )
        for key, label in REPORT_PAGES
    )
    + tuple(
        Page(
            f"cases-{view}",
            f"cases view: {view}",
            f"/crm/cases/?view={view}",
            max_p50_vs_yardstick=ISSUE7_LIMIT,
            student="issue7",
            paired=True,
        )
        for view in SERVICE_VIEWS
    )
    + (
        Page(
            "workbench-issue7",
            "workbench, large tenant",
            "/",
            student="issue7",
            paired=True,
        ),
        Page(
            "calendar-month",
            "calendar month view",
            "/crm/calendar/?view=month&day=2026-06-15",
            max_p50_vs_yardstick=ISSUE7_LIMIT,
            student="issue7",
            paired=True,
        ),
    )
)

BIG_LEADS = 10_000
BIG_OPPORTUNITIES = 2_000
ISSUE7_OPPORTUNITIES = 10_000
ISSUE7_CASES = 5_000
ISSUE7_ACTIVITIES = 20_000


def fill_big_tenant(session) -> None:
    """A tenant with 10,000 leads and 2,000 opportunities, inserted in bulk."""
    connection = session.connection()
    stamp = "2026-01-01 09:00:00"
    statuses = ("new", "contacted", "qualified", "unqualified")
    connection.exec_driver_sql(
        "INSERT INTO lead (name, company, email, status, rating, source, owner_id,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f"Lead {n:05d}",
                f"Company {n % 997}",
                f"lead{n}@example.com",
                statuses[n % 4],
                ("hot", "warm", "cold")[n % 3],
                "web",
                1 + n % 5,
                stamp,
                stamp,
            )
            for n in range(BIG_LEADS)
        ],
    )
    stages = connection.exec_driver_sql(
        "SELECT id, probability, forecast_category FROM stage WHERE NOT is_closed"
    ).all()
    connection.exec_driver_sql(
        "INSERT INTO opportunity (name, account_id, amount, close_date, stage_id,"
        " probability, probability_manual, forecast_category, owner_id,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
        [
            (
                f"Deal {n:05d}",
                1 + n % 50,
                (1000 + n) * 100,
                f"2027-{1 + n % 12:02d}-{1 + n % 28:02d}",
                stages[n % len(stages)][0],
                stages[n % len(stages)][1],
                stages[n % len(stages)][2],
                1 + n % 5,
                stamp,
                stamp,
            )
            for n in range(BIG_OPPORTUNITIES)
        ],
    )
    session.commit()


def fill_issue7_tenant(session) -> None:
    """10,000 opportunities in every stage (a line item on each won one, lost ones
    lost to a competitor, some from campaigns), 5,000 cases in every state and
    20,000 activities, inserted in bulk."""
    connection = session.connection()
    stamp = "2026-01-01 09:00:00"
    stages = connection.exec_driver_sql(
        "SELECT id, probability, forecast_category, is_closed, is_won FROM stage"
    ).all()
    competitors = [
        row[0] for row in connection.exec_driver_sql("SELECT id FROM competitor")
    ]
    products = connection.exec_driver_sql("SELECT id, list_price FROM product").all()
    for n in range(5):
        connection.exec_driver_sql(
            "INSERT INTO campaign (name, status, start_date, actual_cost, owner_id,"
            " created_at, updated_at) VALUES (?, 'completed', ?, ?, ?, ?, ?)",
            (
                f"Campaign {n}",
                f"2025-{n + 2:02d}-01",
                (n + 1) * 500_000,
                1 + n % 5,
                stamp,
                stamp,
            ),
        )
    campaigns = [
        row[0] for row in connection.exec_driver_sql("SELECT id FROM campaign")
    ]
    rows = []
    for n in range(ISSUE7_OPPORTUNITIES):
        stage_id, probability, category, closed, won = stages[n % len(stages)]
        day = f"{2025 + n % 2}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        rows.append(
            (
                f"Deal {n:05d}",
                1 + n % 50,
                (1000 + n) * 100,
                day,
                stage_id,
                probability,
                category,
                1 + n % 5,
                day if closed else None,
                competitors[n % len(competitors)]
                if closed and not won and competitors
                else None,
                campaigns[n % len(campaigns)] if n % 7 == 0 else None,
                f"{2024 + n % 2}-{1 + n % 12:02d}-01 09:00:00",
                stamp,
            )
        )
    connection.exec_driver_sql(
        "INSERT INTO opportunity (name, account_id, amount, close_date, stage_id,"
        " probability, probability_manual, forecast_category, owner_id, closed_on,"
        " lost_to_id, campaign_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.exec_driver_sql(
        "INSERT INTO line_item (opportunity_id, product_id, position, quantity,"
        " unit_price, discount, total) SELECT o.id, ?, 0, 100, ?, 0, ?"
        " FROM opportunity o JOIN stage s ON s.id = o.stage_id WHERE s.is_won",
        (products[0][0], products[0][1], products[0][1]),
    )
    statuses = (
        "new",
        "accepted",
        "assigned",
        "in_progress",
        "pending_customer",
        "escalated",
        "resolved",
        "callback",
        "closed",
        "cancelled",
    )
    cases = []
    for n in range(ISSUE7_CASES):
        status = statuses[n % len(statuses)]
        opened = f"2026-{1 + n % 10:02d}-{1 + n % 28:02d} 10:00:00"
        due = f"2026-{1 + n % 10:02d}-{1 + n % 28:02d} 17:00:00"
        done = status in ("resolved", "callback", "closed")
        resolved = (
            f"2026-{1 + n % 10:02d}-{1 + n % 28:02d} {12 + n % 9}:00:00"
            if done
            else None
        )
        cases.append(
            (
                f"CS-2026-{n + 100000:06d}",
                f"Case {n:05d}",
                ("question", "fault", "request", "complaint")[n % 4],
                ("p1", "p2", "p3", "p4")[n % 4],
                status,
                1 if status == "escalated" else 0,
                1 + n % 50,
                (1 + n % 5) if n % 6 else None,
                opened,
                resolved,
                due,
                due,
                None if done or status == "cancelled" else due,
                stamp,
                stamp,
            )
        )
    connection.exec_driver_sql(
        "INSERT INTO service_case (number, subject, case_type, origin, priority,"
        " status, escalation_level, account_id, owner_id, opened_at, resolved_at,"
        " response_due_at, resolution_due_at, next_due_at, created_at, updated_at)"
        " VALUES (?, ?, ?, 'phone', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        cases,
    )
    activities = []
    for n in range(ISSUE7_ACTIVITIES):
        task = n % 3 == 0
        day = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}"
        activities.append(
            (
                ("task", "call", "meeting")[n % 3],
                f"Activity {n:05d}",
                None if task else f"{day} 09:00:00",
                day if task else None,
                "done" if n % 2 else "planned",
                1 + n % 5,
                f"{day} 10:00:00" if n % 2 else None,
                stamp,
                stamp,
            )
        )
    connection.exec_driver_sql(
        "INSERT INTO activity (kind, subject, starts_at, due_date, all_day, status,"
        " priority, owner_id, completed_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, 0, ?, 'normal', ?, ?, ?, ?)",
        activities,
    )
    session.commit()


def add_timeline(session) -> None:
    """Edit the detail page's account a few times, so it has a timeline to show."""
    from sandbox.models.crm import Account

    account = session.get(Account, DETAIL_ACCOUNT)
    for n in range(TIMELINE_EDITS):
        account.description = f"Bench note {n}"
        account.employees = 100 + n
        session.commit()


#: student -> what their tenant gets after provisioning (None: the scenario as built)
STUDENTS: dict[str, Callable | None] = {
    "bench": add_timeline,
    "big": fill_big_tenant,
    "issue7": fill_issue7_tenant,
}


# ----------------------------------------------------------------- the instance


def build_instance(instance: Path, tenants: int) -> dict:
    """One course with the page students and fillers up to ``tenants`` tenants.

    Returns ``{"files": student -> tenant file, "fillers": [usernames],
    "filler_s": seconds to provision the fillers}``.
    """
    from sandbox import create_app, tenancy
    from sandbox.auth.service import create_user
    from sandbox.extensions import db
    from sandbox.instructor.service import create_course, enroll
    from sandbox.models.control import Enrollment, Role

    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SEED_CACHE_DIR": str(instance.parent / "seed-cache"),
        }
    )
    files, fillers = {}, []
    with app.app_context():
        db.create_all(bind_key=None)
        course = create_course("Bench", "BENCH")
        for username, prepare in STUDENTS.items():
            tenant = enroll(course, create_user(username, PASSWORD, Role.STUDENT))
            db.session.commit()
            if prepare is not None:
                with tenancy.tenant_session(tenant) as session:
                    prepare(session)
            files[username] = instance / tenant.file_path
        start = time.perf_counter()
        for n in range(max(0, tenants - len(STUDENTS))):
            user = create_user(f"t{n:04d}", PASSWORD, Role.STUDENT)
            db.session.add(Enrollment(course=course, student=user))
            tenancy.provision_tenant(course, user, variant_seed=FILLER_SEED)
            fillers.append(user.username)
        db.session.commit()
        filler_s = time.perf_counter() - start
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return {"files": files, "fillers": fillers, "filler_s": filler_s}


# ------------------------------------------------------------------- the server


class ReferenceApp:
    """The reference pages as a plain WSGI app: sqlite3 and precompiled templates."""

    def __init__(self, files: dict[str, Path]) -> None:
        import jinja2

        env = jinja2.Environment(autoescape=True)
        self.pages = {
            page.key: (
                page.reference.query,
                env.from_string(page.reference.template),
                f"{files[page.student].as_uri()}?mode=rw",
            )
            for page in PAGES
            if page.reference is not None
        }

    def __call__(self, environ, start_response):
        entry = self.pages.get(environ.get("PATH_INFO", "").strip("/"))
        if entry is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such reference page"]
        query, template, uri = entry
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            context = query(conn)
        finally:
            conn.close()
        body = template.render(context).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]


def serve(spec_file: str) -> None:
    """The server process: the product and the reference pages on one waitress."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from sandbox import create_app
    from sandbox.serving import make_server

    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    app = create_app({"INSTANCE_PATH": spec["instance"]})
    reference = ReferenceApp({k: Path(v) for k, v in spec["files"].items()})
    # The same call as ``crm-sandbox serve`` makes, with the dispatcher in front.
    server = make_server(
        DispatcherMiddleware(app, {REF_PREFIX: reference}),
        "127.0.0.1",
        0,
        spec["threads"],
        open_tenants=app.config["TENANT_ENGINE_CACHE_SIZE"],
    )
    print(f"running at http://127.0.0.1:{server.effective_port}/", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run()
    finally:
        server.close()


class Server:
    """The server process; clients and server share no GIL."""

    def __init__(self, folder: Path, instance: Path, files: dict, threads: int):
        spec = folder / "server.json"
        spec.write_text(
            json.dumps(
                {
                    "instance": str(instance),
                    "files": {k: str(v) for k, v in files.items()},
                    "threads": threads,
                }
            ),
            encoding="utf-8",
        )
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(spec)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = ""
        for line in self.process.stdout:
            found = re.search(r"running at (http://\S+?)/", line)
            if found:
                self.url = found.group(1)
                break
        if not self.url:
            self.stop()
            raise RuntimeError("the server did not start")
        # Keep reading so the server never blocks on a full pipe (waitress logs a
        # warning whenever its task queue grows).
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def rss_mb(self) -> dict[str, float]:
        """Resident memory now and at its peak, from ``/proc/<pid>/status``."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
        return {k: int(v) / 1024 for k, v in found.items()}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ------------------------------------------------------------------ the clients


def log_in(base: str, username: str) -> str:
    """Log in through the real form; returns the ``Cookie`` header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(f"{base}/auth/login", timeout=60) as response:
        token = TOKEN.search(response.read().decode()).group(1)
    form = {"username": username, "password": PASSWORD, "csrf_token": token}
    body = urllib.parse.urlencode(form).encode()
    with opener.open(f"{base}/auth/login", data=body, timeout=60) as response:
        if "/auth/login" in response.url:
            raise RuntimeError(f"{username} could not log in")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def fetch(url: str, cookie: str = "") -> tuple[int, str]:
    """GET ``url`` without following redirects; returns status and body."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=60)
    try:
        headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
        conn.request(
            "GET",
            parts.path + (f"?{parts.query}" if parts.query else ""),
            headers=headers,
        )
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def check_pages(base: str, files: dict[str, Path], cookies: dict[str, str]) -> None:
    """Both sides of every page answer 200 and show the same records."""
    from markupsafe import escape

    for page in PAGES:
        status, html = fetch(base + page.path, cookies[page.student])
        if status != 200:
            raise RuntimeError(f"{page.path} answered {status}, not 200")
        if page.reference is None:
            continue
        conn = sqlite3.connect(f"{files[page.student].as_uri()}?mode=ro", uri=True)
        try:
            expected = page.reference.query(conn)["expect"]
        finally:
            conn.close()
        ref_status, ref_html = fetch(f"{base}{REF_PREFIX}/{page.key}")
        for side, code, text in (
            ("product", status, html),
            ("ref", ref_status, ref_html),
        ):
            missing = [e for e in expected if str(escape(e)) not in text]
            if code != 200 or missing:
                raise RuntimeError(f"{page.key} ({side}) lacks {missing[:3]}")


def parse_wrk(output: str) -> dict:
    """Requests/s, p50 and p99 (ms), request and error counts from ``wrk --latency``."""
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}

    def latency(pct: str) -> float:
        value, unit = re.search(
            rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M
        ).groups()
        return float(value) * scale[unit]

    errors = sum(
        int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0),
    }


def run_wrk(url: str, cookie: str, args: argparse.Namespace, duration: float) -> dict:
    command = [
        "wrk",
        "-t",
        str(args.client_threads),
        "-c",
        str(args.connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "30s",
        "-H",
        f"User-Agent: {USER_AGENT}",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def _python_worker(url: str, headers: dict, connections: int, duration: float):
    """One client process: ``connections`` threads, each on a keep-alive connection."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.perf_counter() + duration
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections

    def loop(n: int) -> None:
        conn = http.client.HTTPConnection(parts.netloc, timeout=30)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", target, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[n] += 1
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.netloc, timeout=30)
                continue
            latencies[n].append(time.perf_counter() - start)
        conn.close()

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(connections)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return [s for per in latencies for s in per], sum(errors), wall


def run_python(url: str, cookie: str, args: argparse.Namespace, duration: float):
    """The fallback client: ``wrk``'s shape (processes x threads) in Python."""
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    workers = args.client_threads
    shares = [
        args.connections // workers + (n < args.connections % workers)
        for n in range(workers)
    ]
    with ProcessPoolExecutor(workers) as pool:
        results = list(
            pool.map(
                _python_worker,
                [url] * workers,
                [headers] * workers,
                shares,
                [duration] * workers,
            )
        )
    seconds = sorted(s for latencies, _, _ in results for s in latencies)
    return {
        # Each process's own window: process start-up is not load time.
        "rps": sum(len(latencies) / wall for latencies, _, wall in results),
        "p50_ms": percentile(seconds, 50) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "requests": len(seconds),
        "errors": sum(errors for _, errors, _ in results),
    }


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# -------------------------------------------------------------------- measuring


@dataclass
class Side:
    """The runs of one side (product or reference) of one page."""

    runs: list[dict] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.runs)

    def errors(self) -> int:
        """Failed requests, counting a run in which none completed as one."""
        return sum(run["errors"] + (run["requests"] == 0) for run in self.runs)


def measure_pages(base: str, cookies: dict[str, str], args, load) -> dict:
    """Alternate product and reference for every page, ``--rounds`` times."""
    sides = {(page.key, side): Side() for page in PAGES for side in ("product", "ref")}

    yard = next(p for p in PAGES if p.key == YARDSTICK)
    sides.update({(page.key, "yard"): Side() for page in PAGES if page.paired})

    def urls(page: Page) -> list[tuple[str, str, str]]:
        out = [("product", base + page.path, cookies[page.student])]
        if page.reference is not None:
            out.append(("ref", f"{base}{REF_PREFIX}/{page.key}", ""))
        if page.paired:
            out.append(("yard", base + yard.path, cookies[yard.student]))
        return out

    print(f"Warming up ({args.warmup:g} s a URL) …", flush=True)
    for page in PAGES:
        for side, url, cookie in urls(page):
            if side != "yard":
                load(url, cookie, args, args.warmup)
    for round_no in range(args.rounds):
        print(f"Round {round_no + 1} of {args.rounds} …", flush=True)
        for page in PAGES:
            order = urls(page)
            if round_no % 2:
                order.reverse()
            for side, url, cookie in order:
                sides[(page.key, side)].runs.append(
                    load(url, cookie, args, args.duration)
                )
    return sides


def open_every_tenant(base: str, usernames: list[str]) -> int:
    """Every filler student logs in and opens their account list once."""

    def visit(username: str) -> None:
        status, _ = fetch(f"{base}/crm/accounts/", log_in(base, username))
        if status != 200:
            raise RuntimeError(f"{username}'s account list answered {status}")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(visit, usernames))
    return len(usernames)


def run(args: argparse.Namespace, folder: Path) -> dict:
    instance = folder / "instance"
    print(f"Building an instance with {args.tenants} tenants …", flush=True)
    start = time.perf_counter()
    built = build_instance(instance, args.tenants)
    build_s = time.perf_counter() - start
    load = run_wrk if args.client == "wrk" else run_python
    server = Server(folder, instance, built["files"], args.threads)
    try:
        cookies = {name: log_in(server.url, name) for name in STUDENTS}
        check_pages(server.url, built["files"], cookies)
        sides = measure_pages(server.url, cookies, args, load)
        rss_loaded = server.rss_mb()
        print(f"Opening {len(built['fillers'])} more tenants once each …", flush=True)
        start = time.perf_counter()
        open_every_tenant(server.url, built["fillers"])
        sweep_s = time.perf_counter() - start
        rss = server.rss_mb()
    finally:
        server.stop()
    return {
        "sides": sides,
        "build_s": build_s,
        "filler_s": built["filler_s"],
        "fillers": len(built["fillers"]),
        "rss_loaded": rss_loaded,
        "rss": rss,
        "sweep_s": sweep_s,
    }


# -------------------------------------------------------------------- reporting


def page_figures(sides: dict) -> dict:
    yard_p50 = sides[(YARDSTICK, "product")].median("p50_ms") or 1e-9
    figures = {}
    for page in PAGES:
        product = sides[(page.key, "product")]
        paired = sides.get((page.key, "yard"))
        if paired is not None and paired.runs:
            page_yard_p50 = paired.median("p50_ms") or 1e-9
        else:
            page_yard_p50 = yard_p50
        row = {
            "rps": round(product.median("rps"), 1),
            "p50_ms": round(product.median("p50_ms"), 2),
            "p99_ms": round(product.median("p99_ms"), 2),
            "p50_vs_yardstick": round(product.median("p50_ms") / page_yard_p50, 2),
            "errors": product.errors() + (paired.errors() if paired else 0),
        }
        ref = sides[(page.key, "ref")]
        if ref.runs:
            row.update(
                ref_rps=round(ref.median("rps"), 1),
                ref_p50_ms=round(ref.median("p50_ms"), 2),
                ref_p99_ms=round(ref.median("p99_ms"), 2),
                ratio=round(product.median("rps") / (ref.median("rps") or 1e-9), 3),
            )
            row["errors"] += ref.errors()
        met = row["errors"] == 0
        if page.min_ratio is not None:
            met = met and row["ratio"] >= page.min_ratio
        if page.max_p50_vs_yardstick is not None:
            met = met and row["p50_vs_yardstick"] <= page.max_p50_vs_yardstick
        row["target_met"] = met
        figures[page.key] = row
    return figures


def target_text(page: Page) -> str:
    parts = []
    if page.min_ratio is not None:
        parts.append(f"ratio >= {page.min_ratio:g}")
    if page.max_p50_vs_yardstick is not None:
        parts.append(f"p50 <= {page.max_p50_vs_yardstick:g}x {YARDSTICK}")
    if parts:
        return ", ".join(parts)
    return "(the yardstick)" if page.key == YARDSTICK else "(none)"


def report(args: argparse.Namespace, result: dict) -> dict:
    pages = page_figures(result["sides"])
    print(
        f"\nCRM Sandbox page benchmark: {args.threads} server threads, client "
        f"{args.client} -t {args.client_threads} -c {args.connections}, "
        f"{args.rounds} rounds of {args.duration:g} s per side (medians)"
    )
    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(
        f"\n  {'page':27}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}   |"
        f"{'ref req/s':>10}{'p50 ms':>9}{'p99 ms':>9}   |{'ratio':>7}"
        f"{'p50/' + YARDSTICK:>16}   target"
    )
    for page in PAGES:
        row = pages[page.key]
        ref = (
            f"{row['ref_rps']:>10.0f}{row['ref_p50_ms']:>9.1f}{row['ref_p99_ms']:>9.1f}"
            f"   |{row['ratio']:>7.2f}"
            if "ratio" in row
            else f"{'-':>10}{'-':>9}{'-':>9}   |{'-':>7}"
        )
        verdict = "met" if row["target_met"] else "NOT MET"
        print(
            f"  {page.label:27}{row['rps']:>8.0f}{row['p50_ms']:>9.1f}"
            f"{row['p99_ms']:>9.1f}   |{ref}{row['p50_vs_yardstick']:>16.2f}"
            f"   {target_text(page)}: {verdict}"
        )
    errors = sum(row["errors"] for row in pages.values())
    print(
        f"\nerrors (non-2xx/3xx, socket, or a run with no request completed): {errors}"
    )
    tenants = result["fillers"] + len(STUDENTS)
    rss, peak = result["rss"]["VmRSS"], result["rss"]["VmHWM"]
    judged = tenants >= RSS_TENANTS
    rss_met = rss <= RSS_TARGET_MB
    if judged:
        rss_verdict = "met" if rss_met else "NOT MET"
    else:
        rss_verdict = f"not judged (only {tenants} tenants)"
    print(
        f"\nbuild: {result['build_s']:.1f} s ({result['fillers']} filler tenants, "
        f"copies of one cached seed file, in {result['filler_s']:.1f} s)\n"
        f"server memory after the page load: {result['rss_loaded']['VmRSS']:.0f} MB; "
        f"after opening all {tenants} tenants once ({result['sweep_s']:.1f} s): "
        f"{rss:.0f} MB (peak {peak:.0f} MB)\n"
        f"target: RSS <= {RSS_TARGET_MB:.0f} MB with {RSS_TENANTS} tenants opened: "
        f"{rss_verdict}"
    )
    met = errors == 0 and all(r["target_met"] for r in pages.values())
    met = met and (rss_met or not judged)
    print()
    return {
        "client": args.client,
        "threads": args.threads,
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "pages": pages,
        "tenants": tenants,
        "rss_after_load_mb": round(result["rss_loaded"]["VmRSS"], 1),
        "rss_mb": round(rss, 1),
        "rss_peak_mb": round(peak, 1),
        "targets_met": met,
    }


# -------------------------------------------------------------------- profiling


def profile(args: argparse.Namespace, folder: Path) -> None:
    """Profile one page's product requests in-process (cProfile) and print the top."""
    import cProfile
    import pstats
    from collections import Counter

    import sqlalchemy as sa

    from sandbox import create_app
    from sandbox.extensions import db

    page = next((p for p in PAGES if p.key == args.profile), None)
    if page is None:
        raise SystemExit(f"no page {args.profile!r}; pages: {[p.key for p in PAGES]}")
    instance = folder / "instance"
    build_instance(instance, len(STUDENTS))
    app = create_app({"INSTANCE_PATH": str(instance)})
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    form = {"username": page.student, "password": PASSWORD}
    client.post("/auth/login", data={**form, "csrf_token": TOKEN.search(html)[1]})
    for _ in range(20):  # templates compiled, catalogues loaded, caches warm
        assert client.get(page.path).status_code == 200
    start = time.perf_counter()
    for _ in range(args.requests):
        client.get(page.path)
    plain_ms = (time.perf_counter() - start) * 1000 / args.requests
    statements: Counter[tuple[str, str]] = Counter()

    def count(conn, _cursor, statement, *_args) -> None:
        database = "control" if conn.engine is db.engine else "tenant"
        statements[(database, " ".join(statement.split()[:8]))] += 1

    profiler = cProfile.Profile()
    with app.app_context():
        sa.event.listen(sa.Engine, "before_cursor_execute", count)
    profiler.enable()
    for _ in range(args.requests):
        client.get(page.path)
    profiler.disable()
    sa.event.remove(sa.Engine, "before_cursor_execute", count)
    print(
        f"\n{page.label} ({page.path}): {plain_ms:.2f} ms a request without the "
        f"profiler, {args.requests} requests profiled (test client, one thread)\n"
    )
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    per_request = sum(statements.values()) / args.requests
    print(f"SQL statements a request: {per_request:.1f}")
    for (database, statement), n in statements.most_common(10):
        print(f"  {n / args.requests:5.1f}  {database:8} {statement} …")
    print(
        json.dumps(
            {
                "page": page.key,
                "ms_per_request": round(plain_ms, 2),
                "sql_per_request": round(per_request, 1),
            }
        )
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 round of 2 s, 20 tenants"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--duration",
        type=float,
        default=5.0,
        help="seconds of load per side per round (whole seconds for wrk)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of load per URL before the rounds",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=SERVER_THREADS,
        help="server threads (default: as crm-sandbox serve)",
    )
    parser.add_argument(
        "--connections", type=int, default=50, help="concurrent client connections"
    )
    parser.add_argument(
        "--client-threads",
        type=int,
        default=2,
        help="client threads (wrk -t) or processes (Python client)",
    )
    parser.add_argument(
        "--tenants",
        type=int,
        default=RSS_TENANTS,
        help="tenants in the instance, each opened once for the RSS",
    )
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--profile",
        metavar="PAGE",
        help="profile this page in-process instead of the load run",
    )
    parser.add_argument(
        "--requests", type=int, default=300, help="requests to profile (--profile)"
    )
    parser.add_argument(
        "--pages",
        help="comma-separated page keys to measure (default: all; the yardstick "
        f"page {YARDSTICK} is always measured)",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 2.0, 1.0
        args.tenants = min(args.tenants, 20)
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    if min(args.rounds, args.threads, args.connections, args.client_threads) < 1:
        parser.error("--rounds, --threads, --connections, --client-threads >= 1")
    if args.duration <= 0 or args.warmup < 0:
        parser.error("--duration > 0 and --warmup >= 0")
    if args.tenants < len(STUDENTS):
        parser.error(f"--tenants must be at least {len(STUDENTS)}")
    if args.pages:
        global PAGES
        keys = {key.strip() for key in args.pages.split(",")}
        unknown = keys - {page.key for page in PAGES}
        if unknown:
            parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
        PAGES = tuple(p for p in PAGES if p.key in keys or p.key == YARDSTICK)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="crm-sandbox-bench-"))
    try:
        if args.profile:
            profile(args, folder)
            return 0
        figures = report(args, run(args, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures))
    return 0 if figures["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
