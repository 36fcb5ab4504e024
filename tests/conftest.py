"""Shared test set-up: an isolated cache, the shared real data, no hub access."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Each test session caches representations in a fresh directory, never the user's."""
    previous = os.environ.get("XLNB_CACHE_DIR")
    os.environ["XLNB_CACHE_DIR"] = str(tmp_path_factory.mktemp("xlnb-cache"))
    yield
    if previous is None:
        os.environ.pop("XLNB_CACHE_DIR", None)
    else:
        os.environ["XLNB_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture
def one_thread():
    """One torch thread for the test: on a machine whose cores are shared, one thread beats
    two competing ones by far (training tests use it)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
