"""The start-up heap, kept out of the garbage collector's full passes.

After start-up the process holds some 300,000 objects that live as long as it does (aiogram's
and pydantic's types, SQLAlchemy's mappers and compiled statements, the catalogs). CPython's
full collection visits every one of them each time, which on the 2-core bench machine took
0.37–0.43 s of CPU, and the event loop answers nothing meanwhile: at a steady rate of updates
every full collection was one stall in the citizens' p99 (bench/steady.py ``--probe``). Frozen,
they sit in the permanent generation; later objects are collected as before.
https://docs.python.org/3/library/gc.html#gc.freeze
"""

from __future__ import annotations

import gc


def freeze_start_up_objects() -> int:
    """Collect what start-up left as garbage, then freeze the rest; returns how many were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
