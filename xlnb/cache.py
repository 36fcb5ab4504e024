"""On-disk cache of representations: safetensors, atomic writes, verified reads."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$XLNB_CACHE_DIR``, else ``~/.cache/xlnb`` (created on demand)."""
    root = Path(os.environ.get("XLNB_CACHE_DIR") or Path.home() / ".cache" / "xlnb")
    root.mkdir(parents=True, exist_ok=True)
    return root
