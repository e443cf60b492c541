"""Typed stubs of the Rust extension module ``gridtwin._gridtwin``."""

from typing import Any

__version__: str

class GridtwinError(Exception):
    """An input refused (file, record, reason) or an output not written; the message
    is the command line's. ``exit_code`` (2 usage, 3 input/output) where a command
    line ran."""

    exit_code: int

class ArrowStream:
    """Record batches held in Rust, exported through ``__arrow_c_stream__``."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __len__(self) -> int: ...

class Grids:
    """Unit grids read, validated and indexed once."""

    @staticmethod
    def load(path: str, data: str | None = None, make_valid: bool = False) -> Grids: ...
    @property
    def count(self) -> int: ...
    @property
    def source(self) -> str: ...
    @property
    def quality(self) -> str: ...

def assign_arrow(
    grids: Grids,
    points: Any,
    lon: str = "lon",
    lat: str = "lat",
    nearest_m: float | None = None,
    coords: str = "wgs84",
    reject: str | None = None,
) -> tuple[ArrowStream, str]: ...
def city_layers(path: str) -> tuple[str, list[tuple[str, ArrowStream]], str]: ...
def run_cli(args: list[str]) -> int: ...
def data_dir() -> str: ...
