"""Reference solution of "Reports: answering the manager's questions"."""

import csv
import io
import re

from sandbox.labs.solution import SolutionError

OWNER_OPTION = re.compile(r'<option value="(\d+)"[^>]*>([^<]+)</option>')


def _table(crm, report, **args):
    """The report's table as its CSV export gives it: header, then rows."""
    query = "&".join(
        f"{key}={value}" for key, value in {"period": "all", **args}.items()
    )
    data = crm.get(f"/crm/reports/{report}/export.csv?{query}").get_data()
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _row(table, label):
    """The row whose first cell is ``label`` in either language."""
    names = {label["en"], label["zh"]}
    for row in table[1:]:
        if row[0] in names:
            return row
    raise SolutionError(f"the report has no row {label['en']!r}")


def _owners(crm):
    """The colleagues the report's Owner filter offers, by name."""
    page = crm.read("/crm/reports/pipeline")
    return {name.strip(): owner for owner, name in OWNER_OPTION.findall(page)}


def _stage_of(crm, deal, stage):
    """Open the deal, as a person would, to see its stage."""
    opp = crm.find_id("opportunity", name=deal)
    page = crm.read(f"/crm/opportunities/{opp}")
    if stage["en"] not in page and stage["zh"] not in page:
        raise SolutionError(f"{deal!r} is not in the stage {stage['en']!r}")


def _owner_id(crm, name):
    owners = _owners(crm)
    if name not in owners:
        raise SolutionError(f"no colleague {name!r}")
    return owners[name]


def step_deal_stage(crm, facts):
    question = facts["report_questions"]
    _stage_of(crm, question["deal"], question["stage"])
    owner = _owner_id(crm, question["owner"])
    return _row(_table(crm, "pipeline", owner=owner), question["stage"])[2]


def step_lead_source(crm, facts):
    question = facts["report_questions"]
    lead = crm.find_id("lead", name=question["lead"])
    crm.read(f"/crm/leads/{lead}", question["lead_owner"])
    owner = _owner_id(crm, question["lead_owner"])
    return _row(_table(crm, "lead-sources", owner=owner), question["source"])[1]


def step_top_owner(crm, facts):
    question = facts["report_questions"]
    _stage_of(crm, question["top_deal"], question["top_stage"])
    amounts = {
        name: float(
            _row(_table(crm, "pipeline", owner=owner), question["top_stage"])[2]
        )
        for name, owner in _owners(crm).items()
    }
    return max(amounts, key=amounts.get)
