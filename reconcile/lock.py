"""One apply at a time on this machine: an exclusive, non-blocking lock on a file beside the run log.

fcntl.flock on POSIX, msvcrt.locking on Windows; neither is imported on the other, so the package
imports everywhere. CI serialises across machines with a concurrency group.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from reconcile.errors import LockError

__all__ = ["exclusive_lock"]

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # OSError when another process holds it

    def _unlock(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fh: IO[str]) -> None:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError (an OSError) when held

    def _unlock(fh: IO[str]) -> None:
        fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold the lock on `path` for the block; LockError at once when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            _try_lock(fh)
        except OSError as exc:
            raise LockError(
                f"another reconcile apply is running (lock {path})", hint="wait for it to finish, then plan again"
            ) from exc
        try:
            yield
        finally:
            _unlock(fh)
