"""Progress bars that stay readable in papermill logs.

Interactively (a terminal, or a Jupyter kernel opened by a person) this is ``tqdm.auto``:
a widget bar in Jupyter. Under the runner (``XLNB_BATCH=1``) or when stderr is not a
terminal it is a plain ASCII ``tqdm`` that redraws at most every 30 s, so executed-notebook
logs do not flood. ipywidgets is a dependency because ``tqdm.auto`` (which transformers,
datasets and huggingface_hub import too) warns "IProgress not found" in every Jupyter
kernel without it; should it be missing all the same, bars here are plain ``tqdm`` and
never go through ``tqdm.auto``.
"""

from __future__ import annotations

import importlib.util
import os
import sys

BATCH_ENV = "XLNB_BATCH"
BATCH_SETTINGS = {"mininterval": 30, "ascii": True}


def widgets_available() -> bool:
    """Whether ipywidgets is installed (tqdm's notebook bars need it)."""
    return importlib.util.find_spec("ipywidgets") is not None


def in_jupyter_kernel() -> bool:
    """True inside an IPython kernel (where stderr is not a tty but widgets may render)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def is_batch() -> bool:
    """Whether bars should be plain and sparse rather than live."""
    if os.environ.get(BATCH_ENV) == "1":
        return True
    if in_jupyter_kernel():
        return False
    return not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def progress(iterable=None, *, total=None, desc=None, **kw):
    """A progress bar over ``iterable`` (or a manual one with ``total``)."""
    from tqdm import tqdm

    if is_batch():
        return tqdm(iterable, total=total, desc=desc, **{**kw, **BATCH_SETTINGS})
    if in_jupyter_kernel() and not widgets_available():
        return tqdm(iterable, total=total, desc=desc, **kw)
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm(iterable, total=total, desc=desc, **kw)
