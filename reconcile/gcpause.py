"""A pause of Python's cyclic garbage collector around the stages that build many objects at once.

Planning 10,000 records, or loading a read cache of 24,000 pages, allocates hundreds of thousands
of small objects that hold no reference cycles (reference counting frees them). Each allocation
burst triggers the cyclic collector, whose older-generation passes walk every live object, the
whole workspace included: a third of planning's CPU. Paused for the stage, resumed after it (and
left as found when it was already off); a cycle made meanwhile is collected on a later pass.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

__all__ = ["without_cycle_collection"]

P = ParamSpec("P")
R = TypeVar("R")


def without_cycle_collection(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` with the cyclic collector paused while it runs."""

    @wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused
