"""CL-ICP Fig. 2a tick labels: tokens when a CJK font is found, positions otherwise."""

import importlib.util
import shutil
import types
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib import font_manager

from xlnb.clicp import plots

matplotlib.use("Agg")


def panel():
    return {"title": "en-zh", "C": np.eye(4) * 0.5 + 0.5, "tokens_s": ["The", " cat"],
            "tokens_t": ["猫", "在"], "lang_s": "en", "lang_t": "zh"}


def tick_texts(fig):
    return [t.get_text() for t in fig.axes[0].get_xticklabels()]


def test_without_a_cjk_font_han_tokens_show_their_position(monkeypatch):
    monkeypatch.setattr(plots, "_cjk_font", lambda: None)
    assert tick_texts(plots.token_heatmaps([panel()])) == ["The", "cat", "zh:0", "zh:1"]


@pytest.mark.filterwarnings("ignore:Glyph")  # the stand-in font has no Han glyphs
def test_with_a_cjk_font_han_tokens_are_drawn(monkeypatch):
    monkeypatch.setattr(plots, "_cjk_font", lambda: "DejaVu Sans")
    assert tick_texts(plots.token_heatmaps([panel()])) == ["The", "cat", "猫", "在"]


def test_the_font_bundled_by_mplfonts_is_found_and_registered(monkeypatch, tmp_path):
    # A stand-in mplfonts package whose font file is a copy of matplotlib's DejaVu Sans
    # Mono under the bundled file name; no system font may match.
    package = tmp_path / "mplfonts"
    (package / "fonts").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf"
    shutil.copy(source, package / "fonts" / "NotoSansCJKsc-Regular.otf")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (
        types.SimpleNamespace(origin=str(package / "__init__.py")) if name == "mplfonts"
        else real_find_spec(name, *a)))
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    assert plots._cjk_font() == "DejaVu Sans Mono"
    registered = [f.fname for f in font_manager.fontManager.ttflist]
    assert any(name.endswith("NotoSansCJKsc-Regular.otf") for name in registered)


def test_no_font_anywhere_gives_none(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    assert plots._cjk_font() is None


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")
