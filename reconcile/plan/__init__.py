"""compute_plan: desired state + actual state + now → Plan. Pure: no I/O, no clock, no environment.

Decisions, per resource and key:
- a key produced by two records, or carried by two live pages, is an error for that key: nothing is
  written for it, the rest of the run goes on; unless every page of it was made by this
  integration (heal.py): then one stays and the others are healed to the trash;
- desired and live page: update the properties whose canonical values differ (never create-only);
- desired, no live page, a trashed page with the key: restore it (never a duplicate);
- desired, no page at all: create (upsert, create-only) or warn (update-only);
- live page whose key left the source: on_missing (archive | mark | ignore); with an allowlist only
  keys on the allowlist are managed, so pages of other councils are never touched;
- touch rules: a page related to a page that changed gets the run's time;
- blast-radius guards: errors that block apply unless overridden, and the plan says so.

The plan is the program apply runs: per job and resource, relation targets first, creates and
restores, then updates, archives and heals; then every write that carries a stamp, after the writes
it records (see compute.stamps_last, PropertyChange.depends_on). Apply runs the actions exactly in
that order, leaving out a stamp whose recorded write failed.

    compute.py   compute_plan, plan_job, the order of execution, resource infos
    pages.py     one action per page: indexes by key, duplicates, desired values, missing pages
    touches.py   touch rules, stamps after their changes, and owed stamps
    heal.py      which duplicates are this integration's own, and which page stays
    followup.py  the heal-only follow-up after an apply's creates
    types.py     mapped values against their properties' live types, before any write
    guards.py    blast-radius guards, check_guards
    common.py    JobInput, the run's time, page digests
"""

from __future__ import annotations

from reconcile.plan.common import JobInput, iso_time, page_digest
from reconcile.plan.compute import compute_plan
from reconcile.plan.guards import check_guards

__all__ = ["JobInput", "check_guards", "compute_plan", "iso_time", "page_digest"]
