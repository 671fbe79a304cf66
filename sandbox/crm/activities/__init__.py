"""Activities (日程 / 任务): tasks, calls, meetings and events linked to any record."""

import sqlalchemy as sa
from flask import render_template, url_for
from flask_babel import format_date, format_datetime
from markupsafe import Markup

from sandbox.crm.audit import TIMELINE_PANELS
from sandbox.crm.codes import define
from sandbox.crm.registry import (
    Module,
    Reminder,
    column,
    module_blueprint,
    register_module,
)
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.i18n import ngettext
from sandbox.models import utcnow
from sandbox.models.crm import Colleague
from sandbox.models.crm.activities import Activity

define(
    "activity_kind",
    _l("Activity types"),
    [
        ("task", "Task", "任务", "primary"),
        ("call", "Call", "电话", "info"),
        ("meeting", "Meeting", "会议", "success"),
        ("event", "Event", "事件", "warning"),
        ("email", "Email", "邮件", "secondary"),
    ],
)
define(
    "activity_status",
    _l("Activity statuses"),
    [
        ("planned", "Planned", "计划中", "info"),
        ("in_progress", "In progress", "进行中", "primary"),
        ("done", "Done", "已完成", "success"),
        ("cancelled", "Cancelled", "已取消", "secondary"),
    ],
)
define(
    "activity_priority",
    _l("Activity priorities"),
    [
        ("high", "High", "高", "danger"),
        ("normal", "Normal", "普通", "secondary"),
        ("low", "Low", "低", "light"),
    ],
)


def when(activity: Activity) -> str:
    """When an activity happens, as the list shows it: its start in the course's
    time zone, or a task's due day."""
    if activity.starts_at is not None:
        if activity.all_day:
            return format_date(activity.starts_at, "medium")
        return format_datetime(activity.starts_at, "short")
    return format_date(activity.due_date, "medium") if activity.due_date else ""


#: How many items of one kind the workbench lists before "and N more".
WORKBENCH_ITEMS = 5


def task_todos(session) -> list[Reminder]:
    """The student's open tasks that are overdue or due today (待办任务)."""
    from sandbox.crm.activities.service import local_today, open_tasks_due

    today = local_today()
    tasks, total = open_tasks_due(session, today, limit=WORKBENCH_ITEMS)
    items = []
    for task in tasks:
        if task.due_date < today:
            text = _(
                "Overdue since %(day)s: %(subject)s",
                day=format_date(task.due_date, "medium"),
                subject=task.subject,
            )
            level = "danger"
        else:
            text = _("Due today: %(subject)s", subject=task.subject)
            level = "primary"
        items.append(
            Reminder(text, url_for("activities.detail", activity_id=task.id), level)
        )
    if total > len(tasks):
        more = total - len(tasks)
        items.append(
            Reminder(
                ngettext("%(num)d more task", "%(num)d more tasks", more),
                url_for("activities.index", due="overdue_today"),
                "secondary",
            )
        )
    return items


def activity_reminders(session) -> list[Reminder]:
    """Reminders the student set on their activities that have come due (提醒)."""
    from sandbox.crm.activities.service import reminders_due

    items = []
    for activity in reminders_due(session, utcnow(), limit=WORKBENCH_ITEMS):
        when = (
            format_datetime(activity.starts_at, "short")
            if activity.starts_at
            else format_date(activity.due_date, "medium")
            if activity.due_date
            else ""
        )
        items.append(
            Reminder(
                _(
                    "Reminder: %(subject)s (%(when)s)",
                    subject=activity.subject,
                    when=when,
                )
                if when
                else _("Reminder: %(subject)s", subject=activity.subject),
                url_for("activities.detail", activity_id=activity.id),
                "info",
            )
        )
    return items


bp = module_blueprint("activities", __name__)

MODULE = register_module(
    Module(
        key="activities",
        label=_l("Activities"),
        entity_label=_l("Activity"),
        noun=_l("activity"),
        icon="check2-square",
        model=Activity,
        blueprint=bp,
        group="activities",
        order=20,
        id_arg="activity_id",
        search=(Activity.subject, Activity.location),
        columns=(
            column(Activity.subject, kind="link"),
            column(Activity.kind),
            column(Activity.status),
            column(Activity.priority),
            column(
                Activity.starts_at,
                key="when",
                label=_l("When"),
                kind="text",
                sort=sa.func.coalesce(Activity.starts_at, Activity.due_date),
                value=when,
            ),
            column(
                Activity.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda activity: activity.owner,
            ),
        ),
        default_sort="when",
        todos=task_todos,
        reminders=activity_reminders,
    )
)


def record_panel(record) -> Markup:
    """A record page's activities, with "Log a call" and "New task" (every record
    that activities may be linked to)."""
    from sandbox.crm.activities.service import activities_of, link_of
    from sandbox.extensions import db

    link = link_of(record)
    if link is None:
        return Markup("")
    module, record_id = link
    upcoming, past = activities_of(db.session, module.key, record_id)
    return Markup(  # noqa: S704 - a rendered template
        render_template(
            "activities/_record_panel.html",
            related_type=module.key,
            related_id=record_id,
            back=module.record_url(record_id),
            upcoming=upcoming,
            past=past,
        )
    )


TIMELINE_PANELS.append(record_panel)

from sandbox.crm.activities import routes  # noqa: E402, F401
