"""Labs: lessons, the check registry, grading and the student's lesson panel."""

from flask import Blueprint

bp = Blueprint("labs", __name__)


@bp.record_once
def _register_globals(state) -> None:
    from sandbox import tenancy
    from sandbox.labs.panel import lab_panel
    from sandbox.labs.planting import plant_facts

    state.app.jinja_env.globals["lab_panel"] = lab_panel
    # Each student's lesson facts are picked when their seed file is built.
    tenancy.add_seed_finisher("lesson_facts", plant_facts)


from sandbox.labs import routes  # noqa: E402, F401
