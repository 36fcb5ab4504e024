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
    checks = {**CONTENT_CHECKS, **TRAINING_CHECKS}
    if ref in checks:  # what the notebook promises, from the smoke params
        results = project / "results" / "smoke"
        stem = ref.replace("/", "_")
        heads = pd.read_csv(results / f"{stem}_headlines.csv")
        assert list(heads.columns) == ["notebook", "quantity", "paper", "ours", "model", "data"]
        assert len(heads) >= 1 and heads.quantity.notna().all() and heads.ours.notna().all()
        checks[ref](lambda suffix="": pd.read_csv(results / f"{stem}{suffix}.csv"))


def _interval_ok(df, value="value"):
    assert (df.ci_low <= df[value] + 1e-12).all() and (df[value] <= df.ci_high + 1e-12).all()


def _in_unit(series):
    assert series.between(0, 1).all(), series.describe()


def _check_fig1a(read):
    curves, pairs = read(), read("_pairs")
    # tiny-llama: 4 blocks -> representation indices 0..4; 6 languages -> 30 ordered pairs
    assert sorted(pairs.layer.unique()) == [0, 1, 2, 3, 4] and len(pairs) == 5 * 30
    assert set(curves.group) == {"all pairs", "high-resource"}  # all six are NLLB high
    _in_unit(curves.value)
    _interval_ok(curves)


def _check_tab1(read):
    table, layers = read(), read("_per_layer")
    # 2 layer poolings x 2 BOS variants x 2 representations x 3 directions x 2 groups
    assert len(table) == 48
    assert set(table.layers_pooled) == {"max_vector", "best_layer"}
    assert set(table.group) == {"head", "long-tail"} and set(table.bos) == {"kept", "excluded"}
    _in_unit(table.value)
    _interval_ok(table)
    # best_layer scores only the sentences it did not choose the layer on (24 - 6)
    assert (table[table.layers_pooled == "best_layer"].n_scored == 18).all()
    assert (table[table.layers_pooled == "max_vector"].n_scored == 24).all()
    # head = NLLB high (de ru zh), long-tail = cy hy; blocks 1..4 for both representations
    assert set(layers[layers.group == "long-tail"].lang) == {"cy", "hy"}
    for _, part in layers.groupby("representation"):
        assert sorted(part.layer.unique()) == [1, 2, 3, 4]
    assert len(layers) == 5 * 3 * 4 * 2 * 2


def _check_fig1_tsne(read):
    table, points = read(), read("_points")
    assert len(table) == 4 and set(table.metric) == {"mutual_nn_score", "pair_neighbour_rate_2d"}
    assert (table.layer == 2).all()  # the middle of tiny-llama's blocks 1..4
    _in_unit(table.value)
    assert len(points) == 2 * 2 * 30 and set(points.lang) == {"zh", "en"}


def _check_fig2(read):
    table, means = read(), read("_layer_mean")
    assert sorted(table.layer.unique()) == [1, 2, 3, 4] and len(table) == 5 * 4
    assert set(table.lang) == {"de", "ru", "zh", "cy", "hy"} and (table["pivot"] == "en").all()
    _in_unit(table.value)
    assert len(means) == 5
    _interval_ok(means)
    # the layer mean is the mean of the per-layer scores
    by_hand = table.groupby("lang").value.mean()
    assert means.set_index("lang").value.to_dict() == pytest.approx(by_hand.to_dict())


def _check_tab2(read):
    table, pairs = read(), read("_pairs")
    assert table.set_index("group").n_pairs.to_dict() == {"high→high": 3, "high→low": 6,
                                                          "low→low": 1}
    assert len(pairs) == 10
    _in_unit(pairs.value)
    _interval_ok(table)


def _check_tab4(read):
    scores = read("_scores")
    # 3 languages x (3 methods x 2 poolings + 3 baselines)
    assert len(scores) == 3 * 9 and set(scores.lang) == {"zh", "sw", "es"}
    methods = scores[scores.method.isin(["mexa", "nasca", "navca"])]
    _in_unit(methods.value)
    if SHARED_XNLI.is_dir():  # untuned 0-shot XNLI accuracy is then correlated
        corr = read()
        assert set(corr.stat) == {"pearson", "spearman"} and (corr.n_langs == 3).all()
        assert corr.r.dropna().between(-1, 1).all()


def _check_appE(read):
    observed, langs, controls = read(), read("_languages"), read("_controls")
    # eq. 5 per layer: 3 languages x blocks 1..4
    assert len(observed) == 3 * 4 and sorted(observed.layer.unique()) == [1, 2, 3, 4]
    assert (observed.k == (observed.value * 30).round()).all()
    _in_unit(observed.p_chance)
    assert len(langs) == 3 and (langs.n_layers == 4).all()
    assert len(controls) == 2 + 3
    assert controls.chance_mean.round(6).isin([round(1 / 59, 6), round(1 / 29, 6)]).all()


def _check_clicp_fig1(read):
    summary, checks = read(), read("_eq2_check")
    assert summary.sign.tolist() == [1, -1, 0]
    assert len(checks) == 50 and (checks.rel_diff <= 1e-9).all()


def _check_clicp_fig2(read):
    deviation, by_layer = read(), read("_by_layer")
    assert sorted(deviation.pair) == ["en-de", "en-zh"] and (deviation.n_sentences == 8).all()
    _interval_ok(deviation)
    assert sorted(by_layer.layer.unique()) == [1, 2, 3, 4]
    assert set(by_layer.metric) >= {"cos_dev", "sentence_cos_translation", "sentence_cos_random"}


SHARED_XNLI = ROOT.parent / "shared" / "data" / "xnli"
CONTENT_CHECKS = {
    "midalign/fig1a_layer_retrieval": _check_fig1a,
    "neuronxa/tab1_retrieval_embedding_vs_nas": _check_tab1,
    "neuronxa/fig1_tsne": _check_fig1_tsne,
    "neuronxa/fig2_layer_scores": _check_fig2,
    "neuronxa/tab2_language_pairs": _check_tab2,
    "neuronxa/tab4_correlations": _check_tab4,
    "neuronxa/appE_chance": _check_appE,
    "clicp/fig1_toy_gradient_alignment": _check_clicp_fig1,
    "clicp/fig2_cosine_deviation": _check_clicp_fig2,
}


def _check_midalign_tab2(read):
    table, summary, retrieval, outputs = (read(s) for s in ("", "_summary", "_retrieval",
                                                            "_outputs"))
    assert {"task", "system", "language", "metric", "value"} <= set(table.columns)
    slot = table[(table.task == "slot_filling") & (table.metric == "f1")]
    # the base model is scored zero-shot on the supervised language only (the paper's §5)
    assert set(slot[slot.system == "base"].language) == {"en"}
    for system in ("sft", "sft+align"):
        assert set(slot[slot.system == system].language) == {"en", "de", "sw"}
    assert slot.value.between(0, 1).all()
    mt = table[(table.task == "mt") & (table.metric != "retrieval_acc")]
    assert set(mt.metric) >= {"bleu", "chrf"} and set(mt.language) == {"de-en", "en-de"}
    assert mt[mt.metric == "bleu"].value.between(0, 100).all()
    retr = table[table.metric == "retrieval_acc"]
    assert len(retr) == 2 * 3 and (retr.language == "all").all()  # 2 tasks x 3 systems
    assert retr.value.between(0, 1).all()
    # tiny-llama: 4 blocks -> indices 0..4; 3 languages -> 6 ordered pairs; 12 lines each
    one = retrieval[(retrieval.task == "slot_filling") & (retrieval.system == "sft")]
    assert sorted(one.layer.unique()) == [0, 1, 2, 3, 4] and len(one) == 5 * 6
    assert ((one.accuracy * 12).round(6) % 1 == 0).all()
    # the aggregate is the mean over even layers above 0 (2 and 4) of the pair accuracies
    even = one[one.layer.isin([2, 4])].accuracy.mean()
    got = retr[(retr.task == "slot_filling") & (retr.system == "sft")].value.item()
    assert abs(got - even) < 1e-9
    groups = summary[(summary.task == "slot_filling") & (summary.system == "sft+align")]
    assert set(groups.group) == {"supervised", "transfer", "transfer aligned", "transfer other"}
    slot_out = outputs[outputs.task == "slot_filling"]
    assert len(slot_out) == 4 + 2 * 3 * 4  # base: en only; two trained systems x 3 languages
    assert len(outputs[outputs.task == "mt"]) == 3 * 2 * 4


def _check_midalign_tab3(read):
    table, curve = read(), read("_retrieval")
    systems = {"sft+align@bottom", "sft+align@middle", "sft+align@top"}
    assert set(table.system) == systems | {"sft"}
    sd = table[table.group == "transfer SD of gain"]
    assert set(sd.system) == systems and (sd.value >= 0).all()
    assert (sd.n_languages == 2).all()  # de and sw
    assert table[table.metric == "f1"].value.between(0, 1).all()
    assert set(curve.system) == systems | {"sft"}
    assert sorted(curve.layer.unique()) == [0, 1, 2, 3, 4]
    assert curve.accuracy.between(0, 1).all()


# Smoke-output checks of the training notebooks; the numbers their "what we see" texts quote
# are registered by their tests/checks_midalign_<notebook>.py modules (QUOTED).
TRAINING_CHECKS = {
    "midalign/tab2_main_results": _check_midalign_tab2,
    "midalign/tab3_fig4_loss_placement": _check_midalign_tab3,
}


def _check_modules() -> list:
    """Checks kept beside the notebooks they check: every ``tests/checks_*.py`` module has
    ``CHECKS`` (notebook ref -> smoke-output check taking ``read``) and may have ``QUOTED``
    (notebook ref -> [(text quoted in "What we see", compute(read) -> text)])."""
    import importlib.util

    modules = []
    for path in sorted(Path(__file__).parent.glob("checks_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


CHECK_MODULES = _check_modules()
for _module in CHECK_MODULES:
    TRAINING_CHECKS.update(_module.CHECKS)


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


LANGUAGE_KEYS = {"low_resource", "pairs", "pivot"}  # and every *languages / *language key


def _language_keys(names) -> set[str]:
    return {n for n in names if n in LANGUAGE_KEYS or n.endswith(("languages", "language"))}


def _codes(key, value) -> list[str]:
    if value is None:
        return []
    if key == "pairs":
        assert all(len(p) == 2 for p in value), value
        return [code for pair in value for code in pair]
    return [value] if isinstance(value, str) else list(value)


def _defaults(ref) -> dict:
    from xlnb.params import notebook_parameters
    from xlnb.paths import notebook_path

    return {k: default for k, (_, default) in notebook_parameters(notebook_path(ref)).items()}


def test_every_language_bearing_parameter_is_known():
    # a code-bearing parameter name nobody listed here would escape the check below
    for ref in smoke_notebooks():
        names = set(_defaults(ref))
        hidden = {n for n in names - _language_keys(names)
                  if "lang" in n or n in ("low", "head", "pair", "base")}
        assert not hidden, (ref, hidden)


@pytest.mark.parametrize("profile", ["smoke", "demo", "paper"])
def test_every_params_file_validates_and_names_known_languages(profile):
    # The paper profile cannot run here (no GPU, no hub), so at least its parameters must
    # pass the checks a run makes before the kernel starts, and every language it names
    # must be in the registry and among the languages it loads, or a GPU run would fail
    # after loading an 8B model.
    from xlnb.data.languages import get_language
    from xlnb.params import load_params

    for ref in smoke_notebooks():
        if not (ROOT / "params" / profile / f"{ref}.yaml").exists():
            continue  # test_every_notebook_has_all_three_profiles reports it
        params = {**_defaults(ref), **load_params(ref, profile)}
        for key in _language_keys(params):
            for code in _codes(key, params[key]):
                get_language(code)  # LookupError names the unknown code
        loaded = params.get("languages")
        if loaded is None:
            continue
        loaded = {get_language(x).flores for x in loaded}
        for key in ("pivot", "low_resource", "pairs"):
            if key in params and params[key] is not None:
                stray = {get_language(x).flores for x in _codes(key, params[key])} - loaded
                assert not stray, (ref, profile, key, stray)


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


# -- "what we see" quotes the demo's own numbers ----------------------------------------------

DEMO_RESULTS = ROOT / "results" / "demo"


def _what_we_see(ref: str) -> str:
    import nbformat

    cells = nbformat.read(ROOT / "notebooks" / f"{ref}.ipynb", as_version=4).cells
    text = [c.source for c in cells if c.cell_type == "markdown"][-1]
    assert text.lstrip().startswith("## What we see"), ref
    return text


def _demo(ref: str, suffix: str = "") -> pd.DataFrame:
    return pd.read_csv(DEMO_RESULTS / f"{ref.replace('/', '_')}{suffix}.csv")


def _pct(x) -> str:
    return f"{100 * float(x):.1f}"


def _pick(df, **where):
    for key, value in where.items():
        df = df[df[key] == value]
    assert len(df) == 1, (where, len(df))
    return df.iloc[0]


def _fig1a(read, group="all pairs"):
    return read().query("group == @group").set_index("layer").value


def _fig1a_src(read, src, layer):
    pairs = read("_pairs")
    return pairs[(pairs.src == src) & (pairs.layer == layer)].accuracy.mean()


def _case(read, case, column):
    return f"{_pick(read(), case=case)[column]:+.2f}"


def _fig2_mean(read, layer):
    return f"{100 * read().groupby('layer').value.mean()[layer]:.0f} %"


def _fig2_lang(read, lang, ci=False):
    row = _pick(read("_layer_mean"), lang=lang)
    return (f"{row.value:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}]" if ci
            else f"{row.value:.3f}")


def _fig2_at(read, lang, layer):
    return f"{100 * _pick(read(), lang=lang, layer=layer).value:.0f} %"


def _tab2_group(read, group):
    row = _pick(read(), group=group)
    return f"{row.value:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}] for the {row.n_pairs}"


def _tab2_pairs(read, *, group="high→high", without=None, having=None):
    p = read("_pairs")
    p = p[p.group == group] if group else p
    if without:
        p = p[(p.src != without) & (p.tgt != without)]
    if having:
        p = p[p.src.isin(having) | p.tgt.isin(having)]
    return p


def _tab2_pair(read, pair):
    return f"{_pick(read('_pairs'), pair=pair).value:.3f}"


def _appE_lang(read, lang, column):
    return _pick(read("_languages"), lang=lang)[column]


def _appE_control(read):
    c = read("_controls")
    return c.set_index("control"), c[c.control.str.startswith("unpaired")]


def _tsne(read, representation, metric, digits=2):
    rows = read()
    row = rows[rows.representation.str.startswith(representation) & (rows.metric == metric)]
    return f"{row.value.item():.{digits}f}"


def _dev(read, pair, ci=False):
    row = _pick(read(), pair=pair)
    return f"{row.value:.4f} [{row.ci_low:.4f}, {row.ci_high:.4f}]" if ci else f"{row.value:.4f}"


def _closer_layers(read, pair):
    b = read("_by_layer")
    b = b[b.pair == pair].pivot_table(index="layer", columns="metric", values="value")
    return int((b.sentence_cos_translation > b.sentence_cos_random).sum())


# notebook -> [(text quoted in "what we see", function of the demo results giving that text)]
QUOTED: dict[str, list] = {
    "clicp/fig2_cosine_deviation": [
        ("En–De 0.0103 [0.0088, 0.0119], En–Ru 0.0199, En–Zh 0.0236, En–Sw 0.0317", lambda r: (
            "En–De {}, En–Ru {}, En–Zh {}, En–Sw {}".format(
                _dev(r, "en-de", True), _dev(r, "en-ru"), _dev(r, "en-zh"), _dev(r, "en-sw")))),
        ("at 12 of the 18 layers for De, 14 for Ru and 14 for Zh", lambda r: (
            "at {} of the 18 layers for De, {} for Ru and {} for Zh".format(
                *(_closer_layers(r, p) for p in ("en-de", "en-ru", "en-zh"))))),
        ("at no layer for\nSw", lambda r: "at no layer for\nSw"
         if _closer_layers(r, "en-sw") == 0 else "some"),
    ],
    "neuronxa/fig1_tsne": [
        ("decoder block 9 of 18", lambda r: f"decoder block {r().layer.iloc[0]} of 18"),
        ("score 0.85 vs 0.54", lambda r: "score {} vs {}".format(
            _tsne(r, "neuron", "mutual_nn_score"), _tsne(r, "sentence", "mutual_nn_score"))),
        ("0.275 for NAS\nvs 0.075 for embeddings", lambda r: "{} for NAS\nvs {} for embeddings".format(
            _tsne(r, "neuron", "pair_neighbour_rate_2d", 3),
            _tsne(r, "sentence", "pair_neighbour_rate_2d", 3))),
    ],
    "neuronxa/appE_chance": [
        ("15 of\n16 languages", lambda r: "{} of\n{} languages".format(
            int(r("_languages")["bonferroni_0.001"].sum()), len(r("_languages")))),
        ("80.2 % of\nall", lambda r: "{:.1f} % of\nall".format(
            100 * r("_languages")["layers_above_0.001"].sum() / r("_languages").n_layers.sum())),
        ("k = 2, P = 0.091", lambda r: "k = {}, P = {:.3f}".format(
            _appE_lang(r, "cy", "best_k"), _appE_lang(r, "cy", "min_p"))),
        ("only 4 of 18 blocks, Armenian at 11 and Georgian at 13", lambda r: (
            "only {} of 18 blocks, Armenian at {} and Georgian at {}".format(
                *(_appE_lang(r, x, "layers_above_0.001") for x in ("sw", "hy", "ka"))))),
        ("score 0.0051 on average (theory 0.0050), random binary vectors 0.0028", lambda r: (
            lambda c: "score {:.4f} on average (theory {:.4f}), random binary vectors {:.4f}".format(
                c.loc["gaussian", "mean_score"], c.loc["gaussian", "chance_mean"],
                c.loc["binary", "mean_score"]))(_appE_control(r)[0])),
        ("0.0007–0.0078 (theory 0.0101", lambda r: (
            lambda u: "{:.4f}–{:.4f} (theory {:.4f}".format(
                u.mean_score.min(), u.mean_score.max(), u.chance_mean.iloc[0]))(
            _appE_control(r)[1])),
    ],
    "neuronxa/tab2_language_pairs": [
        ("0.395 [0.376, 0.414] for the 91", lambda r: _tab2_group(r, "high→high")),
        ("0.062\n[0.051, 0.073] for the 42", lambda r: _tab2_group(r, "high→low").replace(
            " [", "\n[", 1)),
        ("0.054 [0.042, 0.066] for the 3", lambda r: _tab2_group(r, "low→low")),
        ("English→German 0.693", lambda r: f"English→German {_tab2_pair(r, 'English→German')}"),
        ("German→French 0.602", lambda r: f"German→French {_tab2_pair(r, 'German→French')}"),
        ("French→Chinese 0.545", lambda r: f"French→Chinese {_tab2_pair(r, 'French→Chinese')}"),
        ("from 0.232 (Greek→Korean)\nto 0.804 (English→Spanish)", lambda r: (
            lambda p: f"from {p.value.min():.3f} ({p.loc[p.value.idxmin(), 'pair']})\nto "
                      f"{p.value.max():.3f} ({p.loc[p.value.idxmax(), 'pair']})")(
            _tab2_pairs(r, without="sw"))),
        ("between 0.00 and\n0.16", lambda r: (lambda p: f"between {p.value.min():.2f} and\n"
                                               f"{p.value.max():.2f}")(
            _tab2_pairs(r, group=None, having=["cy", "hy", "ka"]))),
        ("at most 0.157 (Armenian→Georgian)", lambda r: (
            lambda p: f"at most {p.value.max():.3f} ({p.loc[p.value.idxmax(), 'pair']})")(
            _tab2_pairs(r, group=None, having=["hy", "ka"]))),
        ("(≤ 0.005)", lambda r: f"(≤ {_tab2_pairs(r, group=None, having=['cy']).value.max():.3f})"),
        ("(≤ 0.028 with every language)", lambda r: "(≤ {:.3f} with every language)".format(
            _tab2_pairs(r, group=None, having=["sw"]).value.max())),
    ],
    "neuronxa/fig2_layer_scores": [
        ("from 5 % at block 1", lambda r: f"from {_fig2_mean(r, 1)} at block 1"),
        ("peak of 70 % at\nblock 7", lambda r: "peak of {} at\nblock {}".format(
            _fig2_mean(r, r().groupby("layer").value.mean().idxmax()),
            r().groupby("layer").value.mean().idxmax())),
        ("falls to 22 % at block 18", lambda r: f"falls to {_fig2_mean(r, 18)} at block 18"),
        ("Spanish (0.804 [0.769, 0.834])", lambda r: f"Spanish ({_fig2_lang(r, 'es', True)})"),
        ("French (0.772)", lambda r: f"French ({_fig2_lang(r, 'fr')})"),
        ("Turkish (0.326)", lambda r: f"Turkish ({_fig2_lang(r, 'tr')})"),
        ("Armenian 0.100\n[0.072, 0.131]", lambda r: "Armenian {}\n[{}".format(
            *_fig2_lang(r, "hy", True).split(" ["))),
        ("Welsh 0.005", lambda r: f"Welsh {_fig2_lang(r, 'cy')}"),
        ("Swahili (0.014)", lambda r: f"Swahili ({_fig2_lang(r, 'sw')})"),
        ("87 % at block 14 to 17 %", lambda r: f"{_fig2_at(r, 'de', 14)} at block 14 to "
                                               f"{_fig2_at(r, 'de', 18)}"),
        ("Chinese stays at 61 %", lambda r: f"Chinese stays at {_fig2_at(r, 'zh', 18)}"),
    ],
    "clicp/fig1_toy_gradient_alignment": [
        ("2000 random problems", lambda r: f"{len(r('_eq2_check'))} random problems"),
        ("at most 3.6e-12 absolute (2.8e-13 relative)", lambda r: "at most {:.1e} absolute "
         "({:.1e} relative)".format(r("_eq2_check").abs_diff.max(), r("_eq2_check").rel_diff.max())),
        ("11 % of the", lambda r: f"{100 * (r('_eq2_check').autograd < 0).mean():.0f} % of the"),
        ("RepAlign 1 = +0.64 and RepAlign 2 = +0.78 give ⟨∇L_train, ∇L_t⟩ = +2.02",
         lambda r: f"RepAlign 1 = {_case(r, 'a', 'rep_align_1')} and RepAlign 2 = "
                   f"{_case(r, 'a', 'rep_align_2')} give ⟨∇L_train, ∇L_t⟩ = {_case(r, 'a', 'autograd')}"),
        ("(RepAlign 1 = +0.80)", lambda r: f"(RepAlign 1 = {_case(r, 'b', 'rep_align_1')})"),
        ("RepAlign 2 = −0.10, and the gradients conflict (−0.33)",
         lambda r: (f"RepAlign 2 = {_case(r, 'b', 'rep_align_2')}, and the gradients conflict "
                    f"({_case(r, 'b', 'autograd')})").replace("-", "−")),
        ("RepAlign 2 is (−0.44)",
         lambda r: f"RepAlign 2 is ({_case(r, 'c', 'rep_align_2')})".replace("-", "−")),
    ],
    "midalign/fig1a_layer_retrieval": [
        ("peaks at layer 12 with 44.4 %",
         lambda r: f"peaks at layer {_fig1a(r).idxmax()} with {_pct(_fig1a(r).max())} %"),
        ("**4.5 %** at the top", lambda r: f"**{_pct(_fig1a(r).iloc[-1])} %** at the top"),
        ("**14.9 %** at the peak",
         lambda r: f"**{_pct(_fig1a(r, 'low-resource')[_fig1a(r).idxmax()])} %** at the peak"),
        ("**0.34** of the average", lambda r: "**{:.2f}** of the average".format(
            _fig1a(r, "low-resource")[_fig1a(r).idxmax()] / _fig1a(r).max())),
        ("3.5 % as the query language", lambda r: f"{_pct(_fig1a_src(r, 'sw', 12))} % as the query language"),
    ],
}


for _module in CHECK_MODULES:
    QUOTED.update(getattr(_module, "QUOTED", {}))

# notebooks whose demo of the current code has not been run: their text must say so and
# quote no number
PENDING: set = set()


@pytest.mark.parametrize("ref", sorted(set(CONTENT_CHECKS) | set(QUOTED)))
def test_what_we_see_quotes_numbers_a_test_checks(ref):
    text = _what_we_see(ref)
    if ref in PENDING:
        assert "have not been run yet" in text and ref not in QUOTED
        return
    assert ref in QUOTED and QUOTED[ref], f"{ref}: no quoted numbers registered"
    for quoted, _ in QUOTED[ref]:
        assert quoted in text, (ref, quoted)


@pytest.mark.parametrize("ref", sorted(set(CONTENT_CHECKS) | set(QUOTED)))
def test_what_we_see_numbers_match_the_demo_results(ref):
    stem = DEMO_RESULTS / f"{ref.replace('/', '_')}.csv"
    if not stem.exists():
        pytest.skip(f"no demo results for {ref} (xlnb run {ref} --profile demo)")
    for quoted, compute in QUOTED.get(ref, []):
        assert compute(lambda suffix="": _demo(ref, suffix)) == quoted, (ref, quoted)
