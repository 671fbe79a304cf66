"""The calendar (日程): month, week, day and list views of the student's activities,
drag to reschedule, the iCalendar export and the work diary (工作日志).

Its records are the diary's entries, one a day; the calendar pages read activities.
"""

from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.activities import DiaryEntry

bp = module_blueprint("calendar", __name__)

MODULE = register_module(
    Module(
        key="calendar",
        label=_l("Calendar"),
        entity_label=_l("Diary entry"),
        noun=_l("diary entry"),
        icon="calendar3",
        model=DiaryEntry,
        blueprint=bp,
        group="activities",
        order=10,
        id_arg="entry_id",
        search=(DiaryEntry.notes,),
        columns=(
            column(
                DiaryEntry.day,
                kind="link",
                value=lambda entry: entry.display_name,
                nowrap=True,
            ),
            column(DiaryEntry.notes),
        ),
        default_sort="day",
        on_workbench=False,
    )
)

from sandbox.crm.calendar import routes  # noqa: E402, F401
