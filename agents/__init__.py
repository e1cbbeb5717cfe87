"""The agents: labs, clouds, the chipmaker, the financier and the regulators."""

import sim  # noqa: F401  (refuses a stale compiled build before an agent module loads: sim/native.py)
