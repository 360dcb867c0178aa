"""The CLV entry points keep pytensor's C code when dbt runs them in threads of one process.

pytensor switches its global `cxx` flag off while it infers shapes (infer_static_shape); a
function another thread compiles in that moment gets Python thunks, which made the CLV fits
10 to 100 times slower at random (orchestration/statistics/clv/serial.py). The first test
shows the hazard (so the check can fail); the second that a function run under the CLV lock
waits until the other thread is done and compiles to C.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt

from orchestration.statistics.clv.calibration import calibration_table
from orchestration.statistics.clv.fit import fit_clv_models
from orchestration.statistics.clv.predict import predict_clv
from orchestration.statistics.clv.serial import PYTENSOR_LOCK, one_at_a_time
from orchestration.statistics.clv.settings import FitSettings, PredictionSettings


def compile_small() -> pytensor.compile.function.types.Function:
    x = pt.dvector("x")
    return pytensor.function([x], pt.log1p(pt.exp(x)) * 2.0)


def runs_in_c(function: pytensor.compile.function.types.Function) -> bool:
    """Every node of the compiled function runs C code (Python thunks carry no `cthunk`)."""
    thunks = function.vm.thunks
    return bool(thunks) and all(hasattr(thunk, "cthunk") for thunk in thunks)


def test_a_compile_while_cxx_is_off_gets_python_code():
    assert runs_in_c(compile_small())
    with pytensor.config.change_flags(cxx=""):
        function = compile_small()
    assert not runs_in_c(function)
    assert np.allclose(function(np.array([0.0, 1.0])), 2 * np.log1p(np.exp([0.0, 1.0])))


def test_locked_compile_waits_for_the_other_thread_and_gets_c_code():
    inside, attempted = threading.Event(), threading.Event()
    compiled: list[pytensor.compile.function.types.Function] = []

    @one_at_a_time
    def shape_inference_elsewhere() -> None:
        # What pytensor does in another thread while it infers a shape.
        with pytensor.config.change_flags(cxx=""):
            inside.set()
            attempted.wait(timeout=10)
            # Leave time for the other thread's compile to run, were it not waiting.
            threading.Event().wait(1.0)

    def compile_in_other_thread() -> None:
        inside.wait(timeout=10)
        attempted.set()
        compiled.append(one_at_a_time(compile_small)())

    threads = [
        threading.Thread(target=shape_inference_elsewhere),
        threading.Thread(target=compile_in_other_thread),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert compiled and runs_in_c(compiled[0])


def test_every_clv_entry_point_waits_for_the_lock():
    empty = pd.DataFrame()
    calls = (
        lambda: fit_clv_models(empty, FitSettings()),
        lambda: calibration_table(empty, FitSettings()),
        lambda: predict_clv(empty, empty, PredictionSettings()),
    )
    for call in calls:
        finished = threading.Event()

        def run(call=call, finished=finished) -> None:
            try:
                call()
            except (ValueError, KeyError, IndexError):
                pass  # no data: what matters is when the call got to run
            finally:
                finished.set()

        with PYTENSOR_LOCK:
            thread = threading.Thread(target=run)
            thread.start()
            assert not finished.wait(timeout=0.5)
        assert finished.wait(timeout=60)
        thread.join()
