"""Shared input validation for the alignment metrics.

Every public metric calls these helpers before computing anything, so bad inputs fail early
with a ``ValueError``/``TypeError`` that names the argument and shows the offending value.
Arrays and tensors are converted to float64 NumPy arrays (CPU copies, gradients detached):
the metrics are evaluation-only and float64 keeps cosine ties and sums exact where possible.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch


def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``x`` (tensor, array or nested sequence of reals) as a finite float64 ndarray.

    Raises TypeError for non-numeric or complex input, ValueError for a wrong number of
    dimensions, an empty array, or NaN/inf entries.
    """
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise TypeError(f"{name} must be real-valued, got dtype {x.dtype}")
        arr = x.detach().to("cpu", torch.float64).numpy()
    else:
        try:
            arr = np.asarray(x)
        except Exception as exc:  # ragged sequences and similar
            raise TypeError(f"{name} must be an array or tensor, got {type(x).__name__}") from exc
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be real-valued numeric, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(arr.shape)}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf)")
    return arr


def check_pair_tensors(src, tgt) -> None:
    """Require two tensors of one ``[n, d]`` shape, row i of ``src`` paired with row i of
    ``tgt`` (parallel sentences): the retrieval metrics' and the contrastive loss's input."""
    if not isinstance(src, torch.Tensor) or not isinstance(tgt, torch.Tensor):
        raise TypeError(f"src and tgt must be tensors, got {type(src).__name__} and "
                        f"{type(tgt).__name__}")
    if src.dim() != 2 or src.shape != tgt.shape:
        raise ValueError(f"src and tgt must both be [n, d] of the same shape, got "
                         f"{tuple(src.shape)} and {tuple(tgt.shape)}")


def check_same_rows(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Require the same number of items (first axis) in two paired inputs."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same number of rows (paired items), "
            f"got {a.shape[0]} and {b.shape[0]}"
        )


def check_min_rows(a: np.ndarray, name: str, minimum: int) -> None:
    """Require at least ``minimum`` items along the first axis."""
    if a.shape[0] < minimum:
        raise ValueError(f"{name} needs at least {minimum} rows, got {a.shape[0]}")


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int; bools and non-integers raise TypeError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    """Require ``value`` to be one of the string ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_non_constant_columns(a: np.ndarray, name: str) -> None:
    """Raise if any column of a 2-D array is constant (its correlation is undefined)."""
    const = np.flatnonzero(np.ptp(a, axis=0) == 0)
    if const.size:
        shown = const[:10].tolist()
        raise ValueError(
            f"{name} has {const.size} constant column(s) (correlation undefined), e.g. {shown}"
        )


def centre_columns(a: np.ndarray, name: str) -> np.ndarray:
    """Subtract the column means; raise if nothing is left (input constant across items).

    The test is relative to the input's magnitude, so a constant input whose mean is not
    exactly representable (leaving ~1e-17 residue after centring) is still caught.
    """
    centred = a - a.mean(axis=0, keepdims=True)
    scale = float(np.abs(a).max())
    if float(np.abs(centred).max()) <= 1e-12 * max(scale, np.finfo(float).tiny):
        raise ValueError(f"{name} is constant across items (all rows equal); metric undefined")
    return centred


def layer_labels(layers, n_layers: int, *, start: int = 0) -> list:
    """Labels for the ``n_layers`` rows of a per-layer tensor: ``layers`` as given, or
    ``start, start + 1, ...``; a count that does not match is a ValueError."""
    labels = list(range(start, start + n_layers)) if layers is None else list(layers)
    if len(labels) != n_layers:
        raise ValueError(f"{len(labels)} layer labels for {n_layers} layers")
    return labels
