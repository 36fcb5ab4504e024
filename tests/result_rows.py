"""The one row of a demo result table that the "What we see" checks quote."""

from __future__ import annotations


def one(frame, **where):
    """The single row of ``frame`` whose columns equal ``where`` (column=value); fails naming
    ``where`` when none or several match."""
    for column, value in where.items():
        frame = frame[frame[column] == value]
    assert len(frame) == 1, (where, len(frame))
    return frame.iloc[0]
