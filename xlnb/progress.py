"""Progress bars that stay readable in papermill logs.

Interactively (a terminal, or a Jupyter kernel opened by a person) this is ``tqdm.auto``.
Under the runner (``XLNB_BATCH=1``) or when stderr is not a terminal it is a plain ASCII
``tqdm`` that redraws at most every 30 s, so executed-notebook logs do not flood.
"""

from __future__ import annotations

import os
import sys

BATCH_ENV = "XLNB_BATCH"
BATCH_SETTINGS = {"mininterval": 30, "ascii": True}


def _in_jupyter_kernel() -> bool:
    """True inside an IPython kernel (where stderr is not a tty but widgets may render)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def is_batch() -> bool:
    """Whether bars should be plain and sparse rather than live."""
    if os.environ.get(BATCH_ENV) == "1":
        return True
    if _in_jupyter_kernel():
        return False
    return not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def progress(iterable=None, *, total=None, desc=None, **kw):
    """A progress bar over ``iterable`` (or a manual one with ``total``)."""
    if is_batch():
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, **{**kw, **BATCH_SETTINGS})
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, **kw)
