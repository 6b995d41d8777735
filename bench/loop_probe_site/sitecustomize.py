"""Loaded by Python at start-up when this directory is on PYTHONPATH (bench/steady.py --probe):
the loop probe of bench/loop_probe.py, its records written to ``BENCH_LOOP_PROBE`` at exit."""

import importlib.util
import os

if out := os.environ.get("BENCH_LOOP_PROBE"):
    _spec = importlib.util.spec_from_file_location(
        "loop_probe", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "loop_probe.py"))
    _probe = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_probe)
    _probe.install(out)
