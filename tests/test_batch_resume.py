"""A batch killed with SIGKILL half-way and resumed equals one never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.batch import run_batch
from experiments.design import load_design

RUNS = "48"
ARGS = ["baseline", "--runs", RUNS, "--workers", "2", "--set", "meta.months=24", "--no-report", "--quiet"]
FILES = ("runs.parquet", "timeseries.parquet", "events.parquet")


def command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "batch", *ARGS, *extra]


def committed_chunks(out: Path) -> int:
    parts = out / ".parts"
    return len(list(parts.glob("runs-*.arrow"))) if parts.is_dir() else 0


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_result(tmp_path):
    reference = tmp_path / "reference"
    run_batch(load_design("baseline", runs=int(RUNS), set_overrides=["meta.months=24"]), reference,
              workers=2, progress=False)

    out = tmp_path / "killed"
    proc = subprocess.Popen(command("--out", str(out)), cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while committed_chunks(out) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-batch
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    assert not (out / "runs.parquet").exists()
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    kept = committed_chunks(out)
    assert kept >= 2

    done = subprocess.run(command("--out", str(out), "--resume"), cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "from an earlier session" in done.stdout
    for name in FILES:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert not (out / ".parts").exists()

    again = subprocess.run(command("--out", str(out), "--resume"), cwd=tmp_path, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0 and f"{RUNS} of {RUNS} runs ok" in again.stdout

    other = subprocess.run(command("--out", str(out), "--resume", "--seed", "99"), cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert other.returncode == 2
    assert other.stderr.strip() == (f"error: {out}: --resume: this folder holds a batch with a different design "
                                    "or configuration; use --overwrite or another --name")
