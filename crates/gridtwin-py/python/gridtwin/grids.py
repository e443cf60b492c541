"""``gridtwin.grids``: grid management from Python (``gridtwin grids ...``)."""

from .commands import grids_validate as validate

__all__ = ["validate"]
