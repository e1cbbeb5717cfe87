"""computemarket's simulation: the model, its institutions and the command line.

Importing it refuses a compiled build (``make native``) whose sources changed since (sim/native.py).
"""

from sim.native import check as _check_native_build

_check_native_build()
