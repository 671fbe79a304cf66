"""Sales forecasts (销售预测): live figures per period and owner, quotas, and the
forecasts students submit, kept as history to compare with what was won."""

import sqlalchemy as sa

from sandbox.crm.codes import define
from sandbox.crm.forecasts.service import outcome_expression
from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Colleague
from sandbox.models.crm.forecasts import ForecastSubmission

define(
    "forecast_period",
    _l("Forecast periods"),
    [
        ("month", "Month", "月度"),
        ("quarter", "Quarter", "季度"),
    ],
)


def _difference(submission: ForecastSubmission):
    if submission.outcome is None:
        return None
    return submission.outcome - submission.forecast


bp = module_blueprint("forecasts", __name__)

MODULE = register_module(
    Module(
        key="forecasts",
        label=_l("Forecasts"),
        entity_label=_l("Forecast submission"),
        noun=_l("forecast"),
        icon="graph-up-arrow",
        model=ForecastSubmission,
        blueprint=bp,
        group="sales",
        order=55,
        id_arg="submission_id",
        search=(ForecastSubmission.period_label, ForecastSubmission.comment),
        columns=(
            column(
                ForecastSubmission.submitted_at,
                key="submitted",
                kind="link",
                value=lambda s: s.period_label,
                label=_l("Submission"),
                nowrap=True,
            ),
            column(ForecastSubmission.period_kind, key="kind"),
            column(
                ForecastSubmission.owner_id,
                key="owner",
                kind="text",
                sort=sa.func.coalesce(Colleague.name, ""),
                value=lambda s: s.owner.name if s.owner else _l("Whole team"),
            ),
            column(ForecastSubmission.closed),
            column(ForecastSubmission.commit_amount, key="commit"),
            column(ForecastSubmission.quota),
            column(ForecastSubmission.forecast),
            column(
                ForecastSubmission.submitted_at,
                key="outcome",
                kind="money",
                label=_l("Actually won"),
                sort=outcome_expression(),
                value=lambda s: s.outcome,
            ),
            column(
                ForecastSubmission.submitted_at,
                key="difference",
                kind="money",
                label=_l("Won − forecast"),
                sort=sa.type_coerce(outcome_expression(), sa.BigInteger)
                - sa.type_coerce(ForecastSubmission.forecast, sa.BigInteger),
                value=_difference,
            ),
            column(
                ForecastSubmission.submitted_at,
                key="on",
                kind="datetime",
                label=_l("Submitted on"),
            ),
        ),
        default_sort="on",
    )
)

from sandbox.crm.forecasts import routes  # noqa: E402, F401
