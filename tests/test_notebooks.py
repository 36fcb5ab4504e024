"""Every notebook runs end to end with the smoke profile through the runner, in a copy of
the project, and writes sane outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from xlnb import run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for sub in ("notebooks", "params"):
        shutil.copytree(ROOT / sub, root / sub)
    return root


@pytest.fixture(autouse=True)
def _root(project, monkeypatch):
    monkeypatch.setenv("XLNB_PROJECT_ROOT", str(project))


def smoke_notebooks() -> list[str]:
    return sorted(str(p.relative_to(ROOT / "params" / "smoke").with_suffix(""))
                  for p in (ROOT / "params" / "smoke").rglob("*.yaml"))


def test_every_notebook_has_all_three_profiles():
    for ref in smoke_notebooks():
        for profile in ("demo", "paper"):
            assert (ROOT / "params" / profile / f"{ref}.yaml").exists(), (ref, profile)


@pytest.mark.slow
@pytest.mark.parametrize("ref", smoke_notebooks())
def test_smoke_run(project, ref):
    result = run.run_notebook(ref, "smoke", force=True)
    assert result.status == "ok", result.error
    assert result.outputs, "the notebook saved nothing through xlnb.outputs"
    for out in result.outputs:
        assert (project / out).stat().st_size > 0


def test_unknown_parameter_is_rejected_before_the_kernel_starts(project):
    with pytest.raises(ValueError, match="n_sentencs"):
        run.run_notebook("midalign/fig1a_layer_retrieval", "smoke", {"n_sentencs": 5})
    with pytest.raises(TypeError, match="n_sentences"):
        run.run_notebook("midalign/fig1a_layer_retrieval", "smoke", {"n_sentences": "many"})
    runs = project / "runs" / "smoke" / "midalign"
    assert not (runs / "fig1a_layer_retrieval.failed.ipynb").exists()


@pytest.mark.slow
def test_fig1a_numbers_are_sane(project):
    langs = ["en", "de", "zh", "sw"]
    result = run.run_notebook("midalign/fig1a_layer_retrieval", "smoke",
                              {"languages": langs, "n_sentences": 12, "low_resource": ["sw"]},
                              force=True)
    assert result.status == "ok", result.error
    results = project / "results" / "smoke"
    curves = pd.read_csv(results / "midalign_fig1a_layer_retrieval.csv")
    pairs = pd.read_csv(results / "midalign_fig1a_layer_retrieval_pairs.csv")
    for stem in ("png", "pdf"):
        assert (project / "figures" / "smoke" / f"midalign_fig1a_layer_retrieval.{stem}").exists()
    # tiny-llama: 4 blocks -> 5 representation indices; 4 languages -> 12 ordered pairs
    assert sorted(pairs.layer.unique()) == [0, 1, 2, 3, 4]
    assert len(pairs) == 5 * 12 and pairs.accuracy.between(0, 1).all()
    # accuracies are multiples of 1/12 (12 queries per pair)
    assert ((pairs.accuracy * 12).round(6) % 1 == 0).all()
    everything = curves[curves.group == "all pairs"].set_index("layer")
    low = curves[curves.group == "low-resource"].set_index("layer")
    high = curves[curves.group == "high-resource"].set_index("layer")
    # 'src' rule: a pair belongs to the group of its query language (sw: 3 of 12 pairs)
    assert (everything.n_pairs == 12).all() and (low.n_pairs == 3).all()
    assert (high.n_pairs == 9).all()
    by_hand = pairs.groupby("layer").accuracy.mean()
    pd.testing.assert_series_equal(everything.value, by_hand, check_names=False)
    from_sw = pairs[pairs.src == "sw"].groupby("layer").accuracy.mean()
    pd.testing.assert_series_equal(low.value, from_sw, check_names=False)
    assert (curves.ci_low <= curves.value + 1e-12).all()
    assert (curves.value <= curves.ci_high + 1e-12).all()


@pytest.mark.parametrize("profile", ["smoke", "demo", "paper"])
def test_every_params_file_validates_and_names_known_languages(profile):
    # The paper profile cannot run here (no GPU, no hub), so at least its parameters must
    # pass the checks a run makes before the kernel starts, and every language it names
    # must be in the registry, or a GPU run would fail after loading an 8B model.
    from xlnb.data.languages import get_language
    from xlnb.params import load_params

    for ref in smoke_notebooks():
        params = load_params(ref, profile)
        for key, value in params.items():
            if key.endswith("languages") and value is not None:
                for code in value:
                    get_language(code)


# -- the Colab setup cell -------------------------------------------------------------------

def _setup_cells() -> dict[str, str]:
    import nbformat

    cells = {}
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        cells[str(path.relative_to(ROOT))] = code[0].source
    return cells


def test_every_notebook_has_the_same_setup_cell():
    cells = _setup_cells()
    assert len(cells) >= 9
    first = next(iter(cells.values()))
    assert first.startswith("# Setup:") and "/content/xlnb" in first
    assert {ref for ref, src in cells.items() if src != first} == set()


def _run_setup_cell(tmp_path, *, installed: bool) -> dict:
    """Run the setup cell in a fresh interpreter laid out as on Colab: the clone at
    ``<tmp>/content/xlnb``, the working directory ``<tmp>/content``, ``google.colab``
    imported, ``%pip`` recorded instead of run. ``installed=False``: xlnb's distribution
    and its editable import hook are absent, as on a fresh Colab machine."""
    import json
    import subprocess
    import sys

    from IPython.core.inputtransformer2 import TransformerManager

    content = tmp_path / "content"
    clone = content / "xlnb"
    clone.mkdir(parents=True)
    (clone / "xlnb").symlink_to(ROOT / "xlnb", target_is_directory=True)
    (clone / "README.md").write_text("the clone's root, not a package\n")
    cell = next(iter(_setup_cells().values()))
    code = TransformerManager().transform_cell(cell).replace("/content/xlnb", str(clone))
    prelude = f"""
import importlib.metadata, importlib.util, json, sys, types
sys.modules["google.colab"] = types.ModuleType("google.colab")
if not {installed}:
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    _version = importlib.metadata.version
    def _fresh(name):
        if name == "xlnb":
            raise importlib.metadata.PackageNotFoundError(name)
        return _version(name)
    importlib.metadata.version = _fresh
calls = []
class _Shell:
    def run_line_magic(self, magic, line):
        calls.append([magic, line])
get_ipython = _Shell
spec = importlib.util.find_spec("xlnb")
before = dict(origin=spec.origin, locations=list(spec.submodule_search_locations or []))
sys.modules.pop("xlnb", None)
"""
    epilogue = """
import xlnb, xlnb.data
print(json.dumps(dict(calls=calls, before=before, file=xlnb.__file__,
                      data=xlnb.data.__file__)))
"""
    proc = subprocess.run([sys.executable, "-c", prelude + code + epilogue], cwd=content,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("installed", [False, True])
def test_colab_setup_cell_imports_the_clone_without_a_restart(tmp_path, installed):
    got = _run_setup_cell(tmp_path, installed=installed)
    clone = tmp_path / "content" / "xlnb"
    # the layout reproduces the trap: before the cell, "xlnb" is the clone folder as an
    # empty namespace package (no __init__.py, no origin)
    assert got["before"]["origin"] in (None, "namespace")
    assert str(clone) in got["before"]["locations"]
    # after it, the real package from inside the clone, in the same interpreter
    assert Path(got["file"]).resolve() == (ROOT / "xlnb" / "__init__.py").resolve()
    assert Path(got["file"]).parent.parent == clone
    assert Path(got["data"]).parent.parent.parent == clone
    expected = [] if installed else [["pip", f'install -q -e "{clone}[demo]"']]
    assert got["calls"] == expected
