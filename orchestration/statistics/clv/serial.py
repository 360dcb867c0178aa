"""One pytensor user at a time per process: the lock every CLV entry point holds.

dbt-duckdb runs Python models in threads of one process, so clv_model_fit and clv_calibration
(and int_value__clv_predictions next to clv_calibration) build and compile pytensor graphs at
the same time. pytensor's configuration is global, not per thread, and pytensor itself switches
it while building graphs: `pytensor.tensor.basic.infer_static_shape` (called for shapes of
random variables, allocs, pymc-marketing's models) sets `cxx=""` for a moment. Any function
compiled by another thread in that moment gets Python instead of C code: `Mode(linker="auto")`
picks the Python VM (and caches it for the process), and `COp.make_thunk` builds a Python
thunk for every node it meets while `cxx` is empty. The fits then evaluate their likelihood
element by element in Python, 100 to 1000 times slower (clv_calibration took 672 s instead of
about 20 s at 20,000 customers); which runs are hit depends on thread timing, so builds with
the same data took 50 s or 500 s. The two threads share one GIL, so running them one after the
other costs next to nothing.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

# Re-entrant: an entry point may call another (calibration fits through fit.py).
PYTENSOR_LOCK = threading.RLock()

P = ParamSpec("P")
R = TypeVar("R")


def one_at_a_time(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` holding PYTENSOR_LOCK, so no other thread builds or compiles meanwhile."""

    @functools.wraps(function)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        with PYTENSOR_LOCK:
            return function(*args, **kwargs)

    return locked
