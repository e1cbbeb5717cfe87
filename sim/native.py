"""The optional compiled build of the simulation's modules (``make native``).

The month's economics run as plain Python by default: a user who changes a rule sees it at the next run.
For long batches the same modules can be compiled to C extensions with mypyc, which turns their typed
attribute access, arithmetic and calls into native code: 2.9 times fewer instructions a run and the same
results bit for bit (tests/test_native.py runs worlds both ways and compares every table). Nothing
else changes: the compiled modules are imported in place of the sources when present.

    python sim/native.py build     # compile MODULES in place (needs mypy and a C compiler)
    python sim/native.py ensure    # build unless a current build is there: make native
    python sim/native.py clean     # remove the compiled modules, back to plain Python: make pure
    python sim/native.py status    # which build is in use

(Run as a script, not ``-m sim.native``: importing the ``sim`` package checks the build, and a stale one
must not stop its own rebuild.)

One difference: the compiled classes do not show the garbage collector the attributes Mesa keeps in
their instance dictionaries, so a finished model, whose agents point back at it, is not collected on its
own. ``run_world`` (and so every batch) releases it (``ComputeMarketModel.release``); code that builds
many models itself, such as ``mesa.batch_run``, keeps each in memory (~4 MB a baseline run) unless it
calls ``release()`` on them.

A compiled module no longer follows its source. So the build records a hash of each source it compiled
(``_native.json`` beside this file), and ``import sim`` (which ``agents`` does too) refuses to start when
a compiled module's source has changed since, with one line saying what to run, rather than silently
running the old code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("sim/model.py", "sim/ledger.py", "sim/positions.py", "sim/markets.py", "sim/permitting.py",
           "sim/economics.py", "sim/distress.py", "agents/base.py", "agents/lab.py", "agents/cloud.py",
           "agents/chipmaker.py", "agents/financier.py", "agents/regulator.py")
"""The sources compiled: the month's code. The command line, configuration, metrics and batch code stay
interpreted (they run once a run or once a batch)."""
GROUP = "sim._native"
"""mypyc's name for the compiled group: its shared library is ``sim/_native__mypyc*.so``, found through
the ``sim`` package wherever that is imported from (an editable install maps packages, not the root)."""
MYPY_FLAGS = ("--ignore-missing-imports", "--follow-imports=silent")
"""Mesa, numpy and pydantic are used through their runtime objects; only our modules are type-checked."""


class StaleBuild(ImportError):
    """A compiled module's source changed after it was compiled."""


def _manifest(root: Path) -> Path:
    """The record of the build in the tree at ``root``: the hash of each source it compiled."""
    return root / "sim" / "_native.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compiled_files(root: Path = ROOT) -> list[Path]:
    """The compiled extension modules present in the tree (this Python's and any other's)."""
    return sorted([*(root / "sim").glob("*.so"), *(root / "agents").glob("*.so"),
                   *(root / "sim").glob("*.pyd"), *(root / "agents").glob("*.pyd")])


def check(root: Path = ROOT) -> bool:
    """Whether the compiled build is present and current; raise StaleBuild if it is present and not
    current (a source edited since ``build``, or compiled modules without the record of a build)."""
    if not compiled_files(root):
        return False
    manifest = _manifest(root)
    if not manifest.exists():
        raise StaleBuild(f"computemarket: compiled modules in {root} but no {manifest.name}: "
                         f"run `make native` again, or `make pure` to run the sources")
    recorded = json.loads(manifest.read_text())["sources"]
    for rel, digest in recorded.items():
        src = root / rel
        if not src.exists() or _digest(src) != digest:
            raise StaleBuild(f"computemarket: {rel} changed since it was compiled: run `make native` again "
                             f"to compile it, or `make pure` to run the sources")
    return True


def active() -> bool:
    """Whether the simulation's modules in use are the compiled ones."""
    import sim.model
    return not sim.model.__file__.endswith(".py")


def clean(root: Path = ROOT) -> list[Path]:
    """Remove the compiled modules and the record of the build; return what was removed."""
    gone = compiled_files(root)
    for f in gone:
        f.unlink()
    manifest = _manifest(root)
    if manifest.exists():
        manifest.unlink()
        gone.append(manifest)
    return gone


def build(root: Path = ROOT, quiet: bool = True) -> None:
    """Compile MODULES in place with mypyc (type-checks them first: a type error stops the build).

    Floating-point contraction is off (``-ffp-contract=off``) so that no compiler fuses a multiply and an
    add into one rounding where the interpreter rounds twice: the compiled build computes what the
    sources compute, on any processor."""
    try:
        from mypyc.build import mypycify
        from setuptools import setup
    except ImportError as e:
        raise SystemExit(f"error: the compiled build needs mypy and setuptools ({e.name} is missing): "
                         f"pip install 'computemarket[native]'") from None
    clean(root)
    cwd = os.getcwd()
    os.chdir(root)   # mypyc names modules by their paths relative to the working directory
    try:
        ext = mypycify([*MODULES, *MYPY_FLAGS], opt_level="3", group_name=GROUP, verbose=not quiet,
                       target_dir="build/native")   # the generated C
        for e in ext:
            e.extra_compile_args = [*(e.extra_compile_args or []), "-ffp-contract=off"]
        args = ["build_ext", "--inplace", "--build-temp", "build/native/obj"]
        setup(name="computemarket-native", ext_modules=ext, script_args=[*(["-q"] if quiet else []), *args],
              packages=[])
    finally:
        os.chdir(cwd)
    record = {"sources": {rel: _digest(root / rel) for rel in MODULES},
              "python": sys.version.split()[0]}
    _manifest(root).write_text(json.dumps(record, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cmd = args[0] if args else "status"
    if cmd == "build":
        build(quiet="-v" not in args)
        print(f"compiled {len(MODULES)} modules in place ({len(compiled_files())} extension files); "
              f"`make pure` removes them")
    elif cmd == "ensure":   # build only when there is no current build (make native, make bench)
        try:
            current = check()
        except StaleBuild:
            current = False
        if not current:
            build(quiet="-v" not in args)
        print(f"compiled: {len(MODULES)} modules ({'already current' if current else 'built now'}); "
              f"`make pure` removes them")
    elif cmd == "clean":
        gone = clean()
        print(f"removed {len(gone)} files: the sources run as plain Python")
    elif cmd == "status":
        sys.path.insert(0, str(ROOT))
        print("compiled (make native)" if check() and active() else "plain Python (sources)")
    else:
        print(f"error: unknown command {cmd!r}; allowed: build, ensure, clean, status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
