"""Errors a user can act on. The CLI turns each into one line and an exit code.

    ReconcileError                 exit 1
    ├── ConfigError                the config file, its schema or its environment
    ├── SourceError                the source (GraphQL/HTTP) failed or returned unusable data
    ├── NotionError                Notion refused or failed (after retries)
    │   ├── NotionAuthError        wrong/missing token, database not shared
    │   ├── SchemaMismatchError    a mapped property is missing or has an incompatible type
    │   └── SchemaChangeRefusedError  a declared schema would retype or remove a property, not allowed
    ├── PlanFileError              a saved plan cannot be read or does not fit this config
    │   └── StalePlanError         Notion moved since the plan was made
    ├── GuardError                 a blast-radius guard refused the plan
    └── LockError                  another apply holds the lock

Messages say what, where and how to fix, and never contain the Notion token.
"""

from __future__ import annotations


class ReconcileError(Exception):
    """Base class; `str(e)` is the one line the CLI prints."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} ({hint})")


class ConfigError(ReconcileError):
    pass


class SourceError(ReconcileError):
    pass


class NotionError(ReconcileError):
    def __init__(
        self, message: str, *, hint: str | None = None, code: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.status = status


class NotionAuthError(NotionError):
    pass


class SchemaMismatchError(NotionError):
    pass


class SchemaChangeRefusedError(NotionError):
    """A declared schema (`schema:`) would change a property's type or remove it, and the config
    does not allow it (allow_type_changes, allow_removals): nothing is written."""


class PlanFileError(ReconcileError):
    pass


class StalePlanError(PlanFileError):
    pass


class GuardError(ReconcileError):
    pass


class LockError(ReconcileError):
    pass
