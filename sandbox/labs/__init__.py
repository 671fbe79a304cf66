"""Labs: lessons, the check registry, grading and the student's lesson panel."""

from flask import Blueprint

bp = Blueprint("labs", __name__)


@bp.record_once
def _register_globals(state) -> None:
    from sandbox.labs.panel import lab_panel

    state.app.jinja_env.globals["lab_panel"] = lab_panel


from sandbox.labs import routes  # noqa: E402, F401
