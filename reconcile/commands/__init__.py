"""The operator's commands beyond validate/plan/apply/show, one module each.

Each module imports `reconcile.cli` helpers inside its functions: `reconcile.cli` registers these
commands, so a module-level import would be circular.
"""

from __future__ import annotations
