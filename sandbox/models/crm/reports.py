"""What the reports need of the tenant schema: covering indexes.

A report sums a whole table per group. A tenant keeps a small page cache (hundreds
of tenants share a server), so reading every row of a wide table is what costs;
an index holding the columns a report reads lets SQLite answer from the index
alone. They belong to the reports, so they are declared here rather than beside
each table.
"""

from __future__ import annotations

import sqlalchemy as sa

from sandbox.models.crm.activities import Activity

#: Activities by colleague: owner, whether done or cancelled, and the dates the
#: period and "overdue" read.
ACTIVITY_REPORT_INDEX = sa.Index(
    "ix_activity_report",
    Activity.owner_id,
    Activity.completed_at,
    Activity.status,
    Activity.due_date,
    Activity.starts_at,
)
