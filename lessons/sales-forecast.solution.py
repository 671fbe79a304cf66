"""Reference solution of "Sales forecast: quota, pipeline and a submitted
forecast"."""

import datetime as dt


def _fiscal_year(crm, month: str) -> int:
    start = crm.tenant.course.fiscal_year_start or 1
    day = dt.date.fromisoformat(f"{month}-01")
    return day.year if day.month >= start else day.year - 1


def step_quota(crm, facts):
    fact = facts["forecast"]
    me = crm.find_id("colleague", name=fact["me"])
    crm.post(
        f"/crm/forecasts/quotas?year={_fiscal_year(crm, fact['month'])}",
        {f"quota-{me}-month-{fact['month']}": str(fact["quota"])},
    )


def step_submit(crm, facts):
    fact = facts["forecast"]
    me = crm.find_id("colleague", name=fact["me"])
    crm.post(
        f"/crm/forecasts/forecast/submit?kind=month&on={fact['month']}&owner={me}",
        {"adjustment": str(fact["adjustment"]), "reason": fact["reason"]},
    )


def step_weighted(crm, facts):
    fact = facts["forecast"]
    submission = crm.find_id(
        "forecast_submission", period_label=fact["month"], owner=fact["me"]
    )
    weighted = f"{fact['weighted']:,.2f}"
    crm.read(f"/crm/forecasts/{submission}", weighted)
    return weighted
