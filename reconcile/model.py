"""The data that flows between the stages of a run.

    Config ──fetch──▶ [Record] ──build_desired──▶ DesiredState
    Notion ──read_state──▶ ActualState
    DesiredState + ActualState + now ──compute_plan──▶ Plan ──apply──▶ ApplyResult ──▶ RunRecord

Every value here is immutable and, where it crosses a process boundary (the plan file, the run
log), has a JSON form built by the module that owns that boundary.

Canonical property values (what plan compares and renders), one per Notion type family:

    title, rich_text          str ("" when empty)
    url, email, phone_number  str | None
    number                    int | float | None (integral floats become int: 3 == 3.0)
    checkbox                  bool
    date                      str | None (ISO date, or ISO datetime in UTC "YYYY-MM-DDTHH:MM:SS.fffZ");
                              a range is "start/end"; a datetime the config gives a time zone is its
                              wall time with offset and zone, "2025-07-01T09:00:00.000+01:00[Europe/London]"
                              (a zone suffix applies to the whole value). Dates compare by instant:
                              Notion echoes a zoned write as the offset time with time_zone null
    select, status            str | None (the option name)
    multi_select              tuple[str, ...] sorted
    relation                  tuple[str, ...] sorted page ids (dashed, lower case); a page this run
                              will create is written "new:<resource>:<key>" until apply resolves it
    people                    tuple[str, ...] sorted user ids (the mapping's emails, resolved through
                              the workspace's users list once per run)
    files                     tuple[str, ...] in Notion's order, each "name <url>"; a file Notion hosts
                              is "name <notion-hosted>" (its signed URL changes hourly, so it is left out)

Read-only (computed) types decode for match keys and expression inputs and are never written:
    unique_id                 str "PREFIX-N", or int N without a prefix
    formula                   its result (str, number, bool, or a date as above)
    rollup                    its number or date; an array as tuple[str, ...] of its items' values
    created_time, last_edited_time   date str (UTC);  created_by, last_edited_by   str user id
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypedDict

from reconcile.notify import NotifySettings

Mode = Literal["upsert", "update-only", "create-only"]
MissingAction = Literal["archive", "mark", "ignore"]
ActionKind = Literal["create", "update", "archive", "restore", "touch", "heal"]
OutcomeStatus = Literal["ok", "failed", "skipped"]

ACTION_KINDS: tuple[ActionKind, ...] = ("create", "update", "archive", "restore", "touch", "heal")
NEW_PAGE_PREFIX = "new:"
# Changes that are not properties but parts of the page itself (the `type` of a PropertyChange):
# its body as Markdown, its icon (an emoji or an image URL) and its cover (an image URL).
BODY_TYPE, ICON_TYPE, COVER_TYPE = "page_body", "page_icon", "page_cover"
PAGE_LEVEL_TYPES = (BODY_TYPE, ICON_TYPE, COVER_TYPE)

Record = dict[str, Any]  # one source record: JSON as the source sent it
# A canonical property value, as in the table above (Notion's computed types decode to the same
# shapes: a formula to its scalar, people to a tuple of ids).
Value = str | int | float | bool | tuple[str, ...] | None


# ── configuration ────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class PropertyMapping:
    """One Notion property the tool owns, and how its value is computed from a record."""

    name: str
    expression: str | None = None  # JMESPath over the record
    relation: str | None = None  # target resource; the expression then yields its key(s)
    optional: bool = False  # missing from the live schema is a warning, not an error
    # select, multi_select, status: an option not in the live schema is created by the write, or
    # refused (a per-page error); None is the type's default (reconcile.plan.types.option_policy)
    new_options: Literal["create", "refuse"] | None = None
    time_zone: str | None = None  # date: the IANA zone of datetimes the expression gives without one


@dataclass(frozen=True)
class MatchKey:
    property: str  # Notion property holding the key
    expression: str  # JMESPath over the record yielding the key


@dataclass(frozen=True)
class OnMissing:
    """What happens to a managed page whose key is no longer in the source."""

    action: MissingAction = "archive"
    set: tuple[PropertyMapping, ...] = ()  # for "mark": expressions over {"run": {...}}


@dataclass(frozen=True)
class TouchRule:
    """Set `property` to the run's time on pages related to a changed page of `related`."""

    property: str
    related: str


@dataclass(frozen=True)
class Computation:
    """A value that needs the whole record set, added to each record under `name`."""

    name: str
    kind: Literal["rank"]
    group_by: str | None  # JMESPath; None ranks over all records
    order_by: str  # JMESPath
    descending: bool = False


@dataclass(frozen=True)
class Guards:
    max_archive_ratio: float = 0.2
    max_archive_count: int = 5
    min_records: int = 1
    allow_large_changes: bool = False


@dataclass(frozen=True)
class ContentMapping:
    """The page body a resource owns: Markdown from an expression, and the property keeping its hash."""

    markdown: str  # JMESPath over the record yielding Markdown
    hash_property: str | None = None  # rich_text property holding the hash of the body as written


@dataclass(frozen=True)
class DeclaredProperty:
    """One property of a resource's declared schema (`schema:`): what the data source should have."""

    name: str
    type: str  # a Notion property type
    options: tuple[str, ...] = ()  # select, multi_select, status: options that must exist
    relation: str | None = None  # relation: the target resource (of the same job)
    two_way: bool = True  # relation: dual_property (a synced property on the target) or single_property
    synced_property: str | None = None  # two-way relation: the name of the other side
    renamed_from: str | None = None  # an explicit rename: the property's live name before it
    remove: bool = False  # the property must not exist (refused unless allow_removals)


@dataclass(frozen=True)
class DeclaredSchema:
    """A resource's `schema:`. Properties it does not name are left alone (people add their own)."""

    properties: tuple[DeclaredProperty, ...] = ()
    allow_type_changes: bool = False  # a declared type unlike the live one retypes it (values may be lost)
    allow_removals: bool = False  # `remove: true` properties are removed with their values


@dataclass(frozen=True)
class ResourceConfig:
    name: str
    database: str
    data_source: str | None
    mode: Mode
    match: MatchKey
    properties: tuple[PropertyMapping, ...] = ()
    on_missing: OnMissing = field(default_factory=OnMissing)
    touch: tuple[TouchRule, ...] = ()
    records: str | None = None  # JMESPath projecting the job's records to this resource's rows
    content: ContentMapping | None = None  # the page body, owned only when declared
    icon: str | None = None  # JMESPath yielding an emoji or an image URL
    cover: str | None = None  # JMESPath yielding an image URL
    schema: DeclaredSchema | None = None  # the declared schema, kept by plan and apply

    @property
    def managed_properties(self) -> tuple[str, ...]:
        """Every property this resource may write, in declaration order."""
        names = [self.match.property, *(p.name for p in self.properties)]
        if self.content is not None and self.content.hash_property:
            names.append(self.content.hash_property)
        names += [p.name for p in self.on_missing.set]
        names += [t.property for t in self.touch]
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Incremental:
    """How a graphql or http source asks only for the records changed since the last successful run
    (reconcile/source/incremental.py). The cursor sent is the stored one minus `buffer_s`."""

    cursor: str  # JMESPath over a record giving its change time (ISO 8601)
    params: dict[str, str] = field(default_factory=dict)  # http: query parameter -> format of the cursor
    variable: str | None = None  # graphql: the variable that carries the cursor
    format: str = "iso"  # graphql: iso | date | epoch | a strftime pattern
    buffer_s: float = 300.0  # consistency buffer: late commits and clock skew at the source
    full_every: int | None = None  # a full refresh after this many incremental runs
    full_after_s: float | None = None  # a full refresh when the last one is older than this


@dataclass(frozen=True)
class SourceConfig:
    kind: Literal["graphql", "http", "lookup"]
    endpoint: str
    records: str  # JMESPath to the list of records in the (combined) response
    key: str  # JMESPath giving a record's key
    query: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    allowlist: tuple[str, ...] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    pagination: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = 30.0
    computed: tuple[Computation, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    incremental: Incremental | None = None


@dataclass(frozen=True)
class Job:
    name: str
    source: SourceConfig
    resources: tuple[ResourceConfig, ...]
    guards: Guards = field(default_factory=Guards)

    def resource(self, name: str) -> ResourceConfig:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(name)


@dataclass(frozen=True)
class NotionSettings:
    base_url: str = "https://api.notion.com"
    rate_limit: float = 3.0  # requests per second, shared by every request of a run
    burst: int = 3
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    retry_base_s: float = 0.5  # first backoff ceiling; doubles per retry, full jitter
    timeout_s: float = 60.0
    workers: int = 4
    # How long Notion's query index may lag behind a write: within it, the pages this machine wrote
    # are checked by id when planning (reconcile/state.py). 0 trusts the queries.
    index_lag_s: float = 120.0
    token: str = field(default="", repr=False, compare=False)  # NOTION_TOKEN; "" when unset


@dataclass(frozen=True)
class ReadCacheSettings:
    """The Notion read cache (reconcile/readcache.py): a run reads only the pages changed since the
    last read, and reads everything again when the cache cannot be trusted or is due."""

    enabled: bool = True
    path: str | None = None  # None: `cache/notion-reads.json` beside the run log
    # How far before the last change seen a changed-pages query starts: Notion shows edit times
    # rounded down to the minute, and its query index may show an edit late.
    safety_window_s: float = 600.0
    max_age_s: float = 7 * 86400.0  # a cache whose last full read is older is read in full again
    full_every: int = 20  # at most this many incremental reads after a full one


@dataclass(frozen=True)
class CiSettings:
    """Where the run happens, as the environment says when the config is loaded."""

    github_actions: bool = False  # GITHUB_ACTIONS=true: errors and warnings become annotations
    step_summary: str | None = None  # GITHUB_STEP_SUMMARY: the job summary file to append to


@dataclass(frozen=True)
class Config:
    path: str
    digest: str  # sha256 of the interpolated, validated document
    jobs: tuple[Job, ...]
    notion: NotionSettings = field(default_factory=NotionSettings)
    run_log: str = ".reconcile/runs.jsonl"
    max_plan_age_s: float = 24 * 3600.0
    notify: NotifySettings = field(default_factory=NotifySettings)
    ci: CiSettings = field(default_factory=CiSettings)
    read_cache: ReadCacheSettings = field(default_factory=ReadCacheSettings)
    # resource -> property -> Notion type its `bootstrap.properties` names (kept from the one parse)
    bootstrap_types: dict[str, dict[str, str]] = field(default_factory=dict)

    def job(self, name: str) -> Job:
        for j in self.jobs:
            if j.name == name:
                return j
        raise KeyError(name)


SourceReadMode = Literal["full", "incremental"]


@dataclass(frozen=True)
class SourceRead:
    """How a job's source was read this run. `cursor` is what the run log keeps once the plan is
    applied successfully: the latest change time among the records read (or the stored one)."""

    mode: SourceReadMode
    reason: str
    since: str | None = None  # the cursor sent (stored cursor minus the buffer); None for a full read
    cursor: str | None = None
    records: int = 0  # records the source returned


# ── desired and actual state ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)  # one per page of the workspace: no __dict__ each
class DesiredPage:
    resource: str
    key: str
    values: dict[str, Any]  # property name -> canonical value; relations hold target keys
    record_index: int = 0
    body: str | None = None  # the Markdown of the page body (resources with `content`)
    icon: Any = None  # what the `icon` expression gave (resources with `icon`)
    cover: Any = None  # what the `cover` expression gave (resources with `cover`)


@dataclass(frozen=True)
class DesiredResource:
    resource: str
    pages: tuple[DesiredPage, ...]
    duplicate_keys: tuple[str, ...] = ()  # keys produced by more than one record


@dataclass(frozen=True)
class DesiredState:
    job: str
    record_count: int
    resources: dict[str, DesiredResource]


@dataclass(frozen=True, slots=True)  # one per page of the workspace: no __dict__ each
class PageState:
    page_id: str
    url: str | None  # as Notion gave it; None when it is Notion's usual form, derived by `link`
    key: str | None  # stripped key, None when the page has no key
    raw_key: str | None  # the key exactly as stored
    values: dict[str, Value]  # canonical values of the managed properties
    in_trash: bool = False
    last_edited_time: str = ""  # as Notion shows it: rounded down to the minute
    created_time: str = ""  # likewise
    created_by: str = ""  # user id of whoever created the page (a person, or an integration's bot)
    last_edited_by: str = ""  # user id of whoever edited it last
    title: str = ""  # the page's title, for people (relation values are shown by it)
    icon: str | None = None  # an emoji, an image URL, or a name for another kind of icon
    cover: str | None = None  # an image URL, or a name for another kind of cover
    # The body as nodes with their block ids (reconcile.content), None when it was not read.
    body: tuple[dict[str, Any], ...] | None = None

    @property
    def link(self) -> str:
        """The page's URL (derived from its title and id when Notion gave the usual form: a
        workspace of pages need not hold one more string each)."""
        return self.url if self.url is not None else usual_page_url(self.title, self.page_id)


def usual_page_url(title: str, page_id: str) -> str:
    """The URL Notion gives a page: its title's words joined by hyphens, then its id undashed."""
    slug = "-".join(_WORDS.findall(title))
    return f"https://www.notion.so/{slug + '-' if slug else ''}{page_id.replace('-', '')}"


_WORDS = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class UserDirectory:
    """The workspace's people, read once per run when some mapped property is a people property."""

    ids: dict[str, str] = field(default_factory=dict)  # lower-case email -> user id
    labels: dict[str, str] = field(default_factory=dict)  # user id -> "Name <email>", for people


@dataclass(frozen=True)
class ResourceState:
    resource: str
    database_id: str
    data_source_id: str
    schema: dict[str, str]  # property name -> Notion type, for the properties of this data source
    pages: tuple[PageState, ...]  # live pages
    trashed: tuple[PageState, ...] = ()  # trashed pages that carry a key we may need to restore
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # select/status property -> its option names
    users: UserDirectory | None = None  # set when the resource maps a people property


@dataclass(frozen=True)
class ActualState:
    resources: dict[str, ResourceState]
    # The integration's own user id, asked of Notion only when the plan needs to know which pages
    # this integration made or last edited (a duplicated key, a stamp Notion may say is owed).
    bot_user_id: str | None = None


# ── the plan ─────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class PropertyChange:
    name: str
    type: str
    before: Value
    after: Value
    # A stamp records other writes of the run: the positions (in plan.actions, all earlier) of the
    # actions it records. Apply leaves the stamp out unless every one of them succeeded.
    depends_on: tuple[int, ...] = ()


@dataclass(frozen=True)
class Action:
    """One write. `reason` explains the plan to people and must never influence apply."""

    action: ActionKind
    resource: str
    key: str
    page_id: str | None  # None for create
    url: str | None
    changes: tuple[PropertyChange, ...]
    reason: str
    digest: str | None = None  # digest of the page's managed values when planned (stale check)
    # Block calls that make the page body as planned (reconcile.content.diff), in their order.
    blocks: tuple[dict[str, Any], ...] = ()
    # Properties written only once the block calls succeeded (the body's hash after a create
    # whose body did not fit in the create request).
    written_last: tuple[str, ...] = ()


SchemaChangeKind = Literal["add", "add_options", "rename", "retype", "remove"]


@dataclass(frozen=True)
class SchemaChange:
    """One change of a data source's schema, made before the page writes (one request per data
    source). `before` is the live type (retype, remove) or the live name (rename)."""

    change: SchemaChangeKind
    resource: str
    data_source_id: str
    property: str
    type: str
    before: str | None = None
    options: tuple[str, ...] = ()  # add, add_options: the options added
    kept_options: tuple[str, ...] = ()  # add_options: the live options (sent again, or Notion drops them)
    relation_resource: str | None = None  # add of a relation: its target resource and data source
    relation_data_source_id: str | None = None
    two_way: bool = True
    synced_property: str | None = None


@dataclass(frozen=True)
class Diagnostic:
    severity: Literal["warning", "error"]
    code: str  # stable, e.g. "unlinked", "duplicate_page_key", "guard_archive_limit"
    message: str
    resource: str | None = None
    key: str | None = None
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceInfo:
    """A resource of the plan: where apply writes its pages and how it finds them again by key."""

    name: str
    database_id: str
    data_source_id: str  # where creates go (resolved when the plan was made)
    match_property: str  # the property holding the key: an ambiguous create is re-checked by it
    match_type: str  # its Notion type, from the live schema
    managed: int  # live pages carrying a key
    unchanged: int
    mode: Mode


@dataclass(frozen=True)
class NotionRead:
    """How a resource's pages were read for a plan: all of them, or only those changed since the
    read cache's last read (the rest from the cache), and why."""

    resource: str
    mode: Literal["full", "incremental"]
    reason: str
    pages_read: int = 0  # pages the queries returned (all live ones for a full read)


@dataclass(frozen=True)
class Plan:
    """Everything apply needs and nothing else: `actions` are the writes in the order apply runs
    them; `resources` say where each resource's pages live. Apply reads no config to run it."""

    created_at: str
    config_digest: str
    jobs: tuple[str, ...]
    resources: tuple[ResourceInfo, ...]
    actions: tuple[Action, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    record_counts: dict[str, int] = field(default_factory=dict)
    guard_overrides: tuple[str, ...] = ()
    format_version: int = 2
    labels: dict[str, str] = field(default_factory=dict)  # page id -> title, for relation values shown
    schema_changes: tuple[SchemaChange, ...] = ()  # made first, one request per data source
    source_reads: dict[str, SourceRead] = field(default_factory=dict)  # job -> how its source was read
    reads: tuple[NotionRead, ...] = ()  # how each resource's pages were read (none: not said)

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(ACTION_KINDS, 0)
        for a in self.actions:
            counts[a.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.actions or self.schema_changes)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")


# ── what apply did ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Outcome:
    """How one action of the plan went. `page_id` is the page written (for a create, the new one)."""

    action: ActionKind
    resource: str
    key: str
    page_id: str | None
    status: OutcomeStatus
    error_code: str | None = None
    message: str | None = None
    # a create: "created", "committed", "found" or "recreated"; a heal of a page already in the trash:
    # "already in the trash"; an update whose stamp was left out: "stamp left out"
    note: str | None = None
    page_url: str | None = None  # a create: the new page's URL (the plan knows the others')


@dataclass(frozen=True)
class SchemaOutcome:
    """What became of one planned schema change: ok once Notion's answer shows it, failed when its
    data source's request was refused or its answer did not show it. Names and types only (never
    option names or values): what the run record keeps."""

    change: SchemaChangeKind
    resource: str
    data_source_id: str
    property: str
    type: str
    status: Literal["ok", "failed"]
    before: str | None = None  # the live type (retype, remove) or name (rename)
    error_code: str = ""


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...] = ()
    schema: tuple[SchemaOutcome, ...] = ()  # the schema changes attempted, before the page writes

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def schema_written(self) -> int:
        return sum(1 for s in self.schema if s.status == "ok")

    @property
    def written(self) -> int:
        """Page writes and schema changes that landed."""
        return sum(1 for o in self.outcomes if o.status == "ok") + self.schema_written

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            out.setdefault(o.action, {"ok": 0, "failed": 0, "skipped": 0})[o.status] += 1
        for s in self.schema:
            out.setdefault(f"schema_{s.change}", {"ok": 0, "failed": 0, "skipped": 0})[s.status] += 1
        return out


class ApiCalls(TypedDict):
    """Requests a run sent to Notion (retries included), as the run record stores them."""

    total: int
    by_route: dict[str, int]
    rate_limited: int
    retries: int


@dataclass(frozen=True)
class RunRecord:
    """One execution of a plan: what was planned, what each write did, what it cost.

    Its JSON form (one line of the run log, reconcile.runlog) keeps no property values beyond keys
    and ids, and never the token.
    """

    plan: Plan
    plan_id: str  # the plan's fingerprint: a saved plan is applied once
    result: ApplyResult
    started: datetime
    finished: datetime
    api_calls: ApiCalls
    config_path: str
    run_log: str
    resource_jobs: dict[str, str]  # resource -> its job
    command: str = "apply"
    saved: bool = False  # applied from a saved plan file
    run_id: str = ""
    # "ok" | "failed" (writes failed, keys left alone, or an error stopped it) | "refused" (a guard or
    # a saved-plan check said no) | "interrupted" (Ctrl-C) | "crashed" (a bug); set only when the run
    # stopped early, otherwise derived from what the writes did.
    stopped: RunStatus | None = None
    error: RunError | None = None
    executed: bool = True  # False when the run stopped before its first write was sent

    @property
    def ok(self) -> bool:
        """No write failed and no key was left alone because of an error in the plan."""
        return self.stopped is None and not self.result.failed and not self.plan.errors

    @property
    def status(self) -> RunStatus:
        if self.stopped is not None:
            return self.stopped
        return "ok" if self.ok else "failed"


RunStatus = Literal["ok", "failed", "refused", "interrupted", "crashed"]


@dataclass(frozen=True)
class RunError:
    """Why a run stopped early: the error's kind and its one line (scrubbed of secrets)."""

    code: str
    message: str
