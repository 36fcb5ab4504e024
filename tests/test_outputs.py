"""Saving figures and tables, the project layout, and batch-mode progress bars."""

from __future__ import annotations

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
