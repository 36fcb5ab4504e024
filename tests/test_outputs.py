"""Saving figures and tables, the project layout, and batch-mode progress bars."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from xlnb import outputs, paths, progress  # noqa: E402


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """A project root through ``XLNB_PROJECT_ROOT``, with no output log set."""
    monkeypatch.setenv("XLNB_PROJECT_ROOT", str(tmp_path))
    monkeypatch.delenv("XLNB_OUTPUT_LOG", raising=False)
    return tmp_path


def _all_files(root: Path) -> list[str]:
    """Every file under ``root``, relative, hidden ones included."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_save_figure_writes_png_and_pdf(root):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    written = outputs.save_figure(fig, "fig1a", profile="smoke")
    plt.close(fig)
    assert written == [root / "figures/smoke/fig1a.png", root / "figures/smoke/fig1a.pdf"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written[1].read_bytes()[:5] == b"%PDF-"
    assert _all_files(root) == ["figures/smoke/fig1a.pdf", "figures/smoke/fig1a.png"]


def test_save_figure_png_has_dpi_150(root):
    fig = plt.figure(figsize=(2, 1))
    png = outputs.save_figure(fig, "size", profile="demo")[0]
    plt.close(fig)
    width = int.from_bytes(png.read_bytes()[16:20], "big")
    assert width == 300


def test_outputs_get_the_usual_file_mode_not_mkstemps_private_one(root):
    import os

    umask = os.umask(0o022)
    try:
        path = outputs.save_table(pd.DataFrame({"a": [1]}), "t", profile="smoke")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_save_table_writes_csv_without_index(root):
    df = pd.DataFrame({"lang": ["de", "zh"], "acc": [0.5, 0.25]}, index=[7, 8])
    path = outputs.save_table(df, "table1", profile="paper")
    assert path == root / "results/paper/table1.csv"
    assert path.read_text().splitlines() == ["lang,acc", "de,0.5", "zh,0.25"]
    assert _all_files(root) == ["results/paper/table1.csv"]


def test_written_paths_are_logged_for_the_runner(root, monkeypatch):
    log = root / "outputs.log"
    monkeypatch.setenv("XLNB_OUTPUT_LOG", str(log))
    outputs.save_table(pd.DataFrame({"a": [1]}), "t", profile="smoke")
    fig = plt.figure()
    outputs.save_figure(fig, "f", profile="smoke")
    plt.close(fig)
    assert log.read_text().splitlines() == [
        str(root / "results/smoke/t.csv"), str(root / "figures/smoke/f.png"),
        str(root / "figures/smoke/f.pdf"),
    ]


class _BrokenFrame:
    """Writes half a file, then fails, like a disk filling up mid-write."""

    def to_csv(self, path, index):
        Path(path).write_text("half")
        raise OSError("disk full")


def test_failed_write_keeps_old_file_and_leaves_no_temp(root):
    outputs.save_table(pd.DataFrame({"a": [1]}), "t", profile="smoke")
    with pytest.raises(OSError, match="disk full"):
        outputs.save_table(_BrokenFrame(), "t", profile="smoke")
    assert _all_files(root) == ["results/smoke/t.csv"]
    assert (root / "results/smoke/t.csv").read_text() == "a\n1\n"


@pytest.mark.parametrize("name", ["", "  ", "a/b", "a\\b", "..", None])
def test_bad_names_rejected(root, name):
    with pytest.raises(ValueError, match="name"):
        outputs.save_table(pd.DataFrame(), name, profile="smoke")
    assert _all_files(root) == []


@pytest.mark.parametrize("profile", ["", None])
def test_profile_required(root, profile):
    with pytest.raises(ValueError, match="profile"):
        outputs.save_table(pd.DataFrame(), "t", profile=profile)


def test_project_root_from_env_ancestor_or_cwd(tmp_path, monkeypatch):
    monkeypatch.setenv("XLNB_PROJECT_ROOT", str(tmp_path / "x"))
    assert paths.project_root() == (tmp_path / "x").resolve()
    monkeypatch.delenv("XLNB_PROJECT_ROOT")
    (tmp_path / "p/notebooks/midalign").mkdir(parents=True)
    (tmp_path / "p/params").mkdir()
    monkeypatch.chdir(tmp_path / "p/notebooks/midalign")
    assert paths.project_root() == (tmp_path / "p").resolve()
    monkeypatch.chdir(tmp_path)
    assert paths.project_root() == tmp_path.resolve()


def test_profile_dirs_created_on_demand(root):
    assert paths.figures_dir("demo") == root / "figures/demo"
    assert paths.results_dir("demo") == root / "results/demo"
    assert paths.runs_dir("demo") == root / "runs/demo"
    assert all((root / d / "demo").is_dir() for d in ("figures", "results", "runs"))


def test_progress_is_plain_and_sparse_in_batch(monkeypatch):
    monkeypatch.setenv("XLNB_BATCH", "1")
    bar = progress.progress(range(3), desc="x", mininterval=0.01)
    assert type(bar).__module__ == "tqdm.std"
    assert bar.mininterval == 30 and bar.ascii is True
    assert list(bar) == [0, 1, 2]


def test_progress_manual_total(monkeypatch):
    monkeypatch.setenv("XLNB_BATCH", "1")
    with progress.progress(total=5, desc="manual") as bar:
        bar.update(5)
    assert bar.n == 5 and bar.total == 5


def test_progress_in_a_kernel_without_widgets_is_plain_tqdm(monkeypatch):
    monkeypatch.delenv("XLNB_BATCH", raising=False)
    monkeypatch.setattr(progress, "in_jupyter_kernel", lambda: True)
    monkeypatch.setattr(progress, "widgets_available", lambda: False)
    bar = progress.progress(range(2), desc="x", file=io.StringIO())
    assert type(bar).__module__ == "tqdm.std"
    assert bar.mininterval != 30 and list(bar) == [0, 1]  # interactive, not batch settings


def test_widgets_are_installed_so_tqdm_auto_does_not_warn():
    # tqdm.auto (imported by transformers and datasets too) warns "IProgress not found"
    # in every Jupyter kernel unless ipywidgets is installed; it is a dependency.
    assert progress.widgets_available()


# ---------------------------------------------------------------- figure style, PDF fonts
def _texty_figure():
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0], label="line")
    ax.set_title("Title ü")
    ax.set_xlabel("layer")
    ax.legend()
    return fig


def test_pdf_has_truetype_not_type3_fonts(root):
    assert matplotlib.rcParams["pdf.fonttype"] == 3  # matplotlib's default: Type 3
    control = root / "control.pdf"
    fig = _texty_figure()
    fig.savefig(control, format="pdf")  # plain savefig: Type 3, so the check below can fail
    assert b"/Subtype /Type3" in control.read_bytes()
    pdf = outputs.save_figure(fig, "fonts", profile="smoke")[1]
    data = pdf.read_bytes()
    assert b"/Subtype /Type3" not in data
    assert b"/Subtype /TrueType" in data or b"/CIDFontType2" in data
    assert matplotlib.rcParams["pdf.fonttype"] == 3  # the global setting is left alone


def test_save_figure_closes_the_figure(root):
    plt.close("all")
    fig = _texty_figure()
    kept = _texty_figure()
    assert len(plt.get_fignums()) == 2
    outputs.save_figure(fig, "closed", profile="smoke")
    assert plt.get_fignums() == [kept.number]
    outputs.save_figure(kept, "kept", profile="smoke", close=False)
    assert plt.get_fignums() == [kept.number]
    plt.close("all")


def test_save_figure_shows_the_figure_in_a_kernel_before_closing(root, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(progress, "in_jupyter_kernel", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    fig = _texty_figure()
    outputs.save_figure(fig, "shown", profile="smoke")
    assert shown == [fig] and fig.number not in plt.get_fignums()


def test_plot_helpers_take_font_sizes_from_the_style_module(root):
    from xlnb import plots, style

    curves = pd.DataFrame({"layer": [0, 1, 2] * 2, "accuracy": [0.1, 0.5, 0.3, 0.2, 0.4, 0.1],
                           "group": ["high"] * 3 + ["low"] * 3})
    fig = plots.layer_curves(curves, title="t")
    ax = fig.axes[0]
    assert ax.title.get_fontsize() == style.FONT_SIZES["title"] == 10
    assert ax.xaxis.label.get_fontsize() == style.FONT_SIZES["body"] == 9
    assert {t.get_fontsize() for t in ax.get_legend().get_texts()} == {8}
    outputs.save_figure(fig, "curves", profile="smoke", close=False)  # ticks are made when drawn
    assert {t.get_fontsize() for t in ax.get_xticklabels()} == {8}
    assert matplotlib.rcParams["font.size"] == 10  # matplotlib's default, untouched
    plt.close(fig)


def test_style_font_roles():
    from xlnb import style

    assert style.font("tiny") < style.font("small") < style.font("title")
    with pytest.raises(ValueError, match="unknown font role 'huge'"):
        style.font("huge")


def test_no_hard_coded_font_sizes_in_the_package():
    """Font sizes come from xlnb.style (named roles), never numbers in plotting code."""
    import re

    import xlnb

    pattern = re.compile(r"""fontsize["']?\s*[:=]\s*[0-9]""")
    package = Path(xlnb.__file__).parent
    offending = [f"{p.relative_to(package)}:{i}" for p in sorted(package.rglob("*.py"))
                 if p.name != "style.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offending == []
