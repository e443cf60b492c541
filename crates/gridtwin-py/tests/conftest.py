"""Shared fixtures: the repository, the command-line binary (the oracle for "same as
the CLI"), and a synthetic grid layer."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import gridtwin

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def gridtwin_bin() -> str:
    """The `gridtwin` binary built from this checkout (GRIDTWIN_BIN, as .ci/test sets
    it, else target/debug/gridtwin)."""
    for candidate in (
        os.environ.get("GRIDTWIN_BIN"),
        str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "gridtwin"),
        shutil.which("gridtwin"),
    ):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("no gridtwin binary: build it (cargo build -p gridtwin-cli) or set GRIDTWIN_BIN")


def run_bin(binary: str, *args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *map(str, args)], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="session")
def synth_grids(tmp_path_factory) -> Path:
    """400 Voronoi unit grids of `gridtwin synth`, as FlatGeobuf."""
    out = tmp_path_factory.mktemp("synth")
    code = gridtwin.run(
        "synth", "--grids", "400", "--components", "0", "--incidents", "0",
        "--grids-only", "--seed", "3", "--out", out,
    )
    assert code == 0
    return out / "areas.fgb"
