"""How often the cyclic garbage collector runs while worlds are simulated.

A world allocates a few hundred thousand short-lived objects (records, tuples, floats) and, once
``ComputeMarketModel.release`` has broken its cycles, leaves no reference cycle behind (tested in
tests/test_native.py), so the collector finds almost nothing to free. At Python's default it runs
every 700 net new container objects: ~20 times a run, each walking the live world, and now and then
a full collection over every imported module's objects on top (the long tail of single-run times).
A light module: the batch's main process imports it without the model (and without Mesa).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

YOUNG_COLLECTION_EVERY = 50_000
"""Net new container objects between two collections of the youngest generation while worlds run
(Python's default: 700). About one collection a run; a cycle made by a custom run function or a
caller's code still goes at the next collection, and the previous setting is restored on leaving."""


@contextmanager
def few_collections() -> Iterator[None]:
    """Collect cyclic garbage every YOUNG_COLLECTION_EVERY new objects while inside; the previous
    thresholds after (nested uses restore their callers' setting)."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
