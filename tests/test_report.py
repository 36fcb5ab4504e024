"""Paper vs ours: headline files written by notebooks, gathered into one markdown table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from xlnb import cli, outputs, report


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """A project root through ``XLNB_PROJECT_ROOT``; no runner variables set."""
    monkeypatch.setenv("XLNB_PROJECT_ROOT", str(tmp_path))
    monkeypatch.delenv("XLNB_OUTPUT_LOG", raising=False)
    monkeypatch.delenv("XLNB_NOTEBOOK", raising=False)
    return tmp_path


def _write(root: Path, name: str, text: str, profile: str = "demo") -> Path:
    path = root / "results" / profile / f"{name}_headlines.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# Two hand-written files, named so that file order and notebook order differ.
TAB1 = """notebook,quantity,paper,ours,model,data
neuronxa/tab1_retrieval_embedding_vs_nas,"head En⇔xx, NAS (%)",93.1,71.25,gemma-3-270m,micro (120 sentences)
neuronxa/tab1_retrieval_embedding_vs_nas,long-tail En⇔xx | NAS,,0.5,gemma-3-270m,micro
"""
FIG1A = """notebook,quantity,paper,ours,model,data
midalign/fig1a_layer_retrieval,peak layer,16,9.0,gemma-3-270m,micro
midalign/fig1a_layer_retrieval,peak accuracy (%),0.123456,12345.678,gemma-3-270m,micro
"""
EXPECTED = """| notebook | quantity | paper | ours | model | data |
| --- | --- | --- | --- | --- | --- |
| `midalign/fig1a_layer_retrieval` | peak layer | 16 | 9 | gemma-3-270m | micro |
| `midalign/fig1a_layer_retrieval` | peak accuracy (%) | 0.1235 | 1.235e+04 | gemma-3-270m | micro |
| `neuronxa/tab1_retrieval_embedding_vs_nas` | head En⇔xx, NAS (%) | 93.1 | 71.25 | gemma-3-270m | micro (120 sentences) |
| `neuronxa/tab1_retrieval_embedding_vs_nas` | long-tail En⇔xx \\| NAS | — | 0.5 | gemma-3-270m | micro |
"""


def test_report_of_two_handwritten_files(root):
    _write(root, "a_tab1", TAB1)
    _write(root, "b_fig1a", FIG1A)
    _write(root, "other", FIG1A, profile="smoke")  # another profile is not gathered
    assert report.report("demo") == EXPECTED


def test_cli_report_prints_and_writes(root, capsys):
    _write(root, "a_tab1", TAB1)
    _write(root, "b_fig1a", FIG1A)
    out = root / "docs" / "demo.md"
    assert cli.main(["report", "--profile", "demo", "--out", str(out)]) == 0
    assert capsys.readouterr().out == EXPECTED
    assert out.read_text(encoding="utf-8") == EXPECTED


def test_cli_report_without_files_is_a_one_line_error(root, capsys):
    assert cli.main(["report", "--profile", "demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no *_headlines.csv" in err and "xlnb reproduce --profile demo" in err
    assert "\n" not in err


@pytest.mark.parametrize("text, shown", [
    ("", "—"), ("16", "16"), ("16.0", "16"), ("-3", "-3"), ("0.95561", "0.9556"),
    ("71.25", "71.25"), ("layer 9 of 18", "layer 9 of 18"), ("nan", "nan"),
])
def test_format_value(text, shown):
    assert report.format_value(text) == shown


def test_save_headlines_then_report_round_trip(root, monkeypatch):
    log = root / "outputs.log"
    monkeypatch.setenv("XLNB_OUTPUT_LOG", str(log))
    monkeypatch.setenv("XLNB_NOTEBOOK", "midalign/fig1a_layer_retrieval")
    rows = [
        {"quantity": "peak layer", "paper": 16, "ours": 9, "model": "gemma-3-270m",
         "data": "micro"},
        {"quantity": "peak accuracy (%)", "paper": None, "ours": 41.6666, "model": "gemma-3-270m",
         "data": "micro"},
    ]
    path = outputs.save_headlines(rows, "fig1a", profile="demo")
    assert path == root / "results/demo/fig1a_headlines.csv"
    assert log.read_text().splitlines() == [str(path)]
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(written.columns) == ["notebook", "quantity", "paper", "ours", "model", "data"]
    assert written["notebook"].tolist() == ["midalign/fig1a_layer_retrieval"] * 2
    assert written["paper"].tolist() == ["16", ""]
    lines = report.report("demo").splitlines()
    assert lines[2] == ("| `midalign/fig1a_layer_retrieval` | peak layer | 16 | 9 "
                        "| gemma-3-270m | micro |")
    assert lines[3].endswith("| peak accuracy (%) | — | 41.67 | gemma-3-270m | micro |")


def test_save_headlines_notebook_defaults(root):
    row = {"quantity": "q", "ours": 1.5, "model": "m", "data": "d"}
    outputs.save_headlines([row], "tab2", profile="smoke")
    outputs.save_headlines(pd.DataFrame([row]), "tab3", profile="smoke", notebook="neuronxa/tab3")
    outputs.save_headlines([{**row, "notebook": "x/y"}], "tab4", profile="smoke")
    table = report.headline_table("smoke")
    assert table["notebook"].tolist() == ["neuronxa/tab3", "tab2", "x/y"]


@pytest.mark.parametrize("row, message", [
    ({"paper": 1, "ours": 2, "model": "m", "data": "d"}, "'quantity' missing"),
    ({"quantity": "q", "ours": None, "model": "m", "data": "d"}, "'ours' missing"),
    ({"quantity": "q", "ours": float("nan"), "model": "m", "data": "d"}, "'ours' missing"),
    ({"quantity": "q", "ours": 1, "data": "d"}, "'model' missing"),
    ({"quantity": "q", "ours": 1, "model": "m", "data": " "}, "'data' missing"),
    ({"quantity": "q", "ours": 1, "model": "m", "data": "d", "value": 3}, "unknown keys"),
])
def test_save_headlines_rejects_incomplete_rows(root, row, message):
    with pytest.raises(ValueError, match=message):
        outputs.save_headlines([row], "bad", profile="demo")
    assert not (root / "results/demo/bad_headlines.csv").exists()


def test_save_headlines_rejects_no_rows_and_bad_names(root):
    with pytest.raises(ValueError, match="no headline rows"):
        outputs.save_headlines([], "t", profile="demo")
    with pytest.raises(ValueError, match="name"):
        outputs.save_headlines([{"quantity": "q", "ours": 1, "model": "m", "data": "d"}],
                               "a/b", profile="demo")


# ---------------------------------------------------------------- the README's demo section
REPO = Path(__file__).resolve().parents[1]


def _readme_block(name: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    assert start in text and end in text, f"README lacks the {name} markers"
    return text[text.index(start) + len(start):text.index(end)]


def test_readme_demo_figures_exist_and_are_committed_pngs():
    import re

    block = _readme_block("demo-figures")
    paths = re.findall(r"\]\((figures/demo/[^)]+)\)", block)
    assert all(p.endswith(".png") for p in paths)
    missing = [p for p in paths if not (REPO / p).is_file()]
    assert missing == []


def test_readme_demo_table_matches_the_demo_results(monkeypatch):
    monkeypatch.setenv("XLNB_PROJECT_ROOT", str(REPO))
    if not report.headline_files("demo"):
        pytest.skip("no demo results here (results/ is not committed); run xlnb reproduce")
    # the notebooks with results here: their README rows are the report's
    fresh = report.report("demo")
    assert report.merge_report(_readme_block("demo-report"), fresh) == _readme_block("demo-report")


def test_report_names_headline_files_no_manifest_lists(root, capsys):
    import json

    _write(root, "a_tab1", TAB1)
    _write(root, "b_fig1a", FIG1A)
    manifest = root / "runs/demo/midalign/fig1a_layer_retrieval.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"status": "ok",
                                    "outputs": ["results/demo/b_fig1a_headlines.csv"]}))
    assert report.unrecorded_files("demo") == [root / "results/demo/a_tab1_headlines.csv"]
    assert cli.main(["report", "--profile", "demo"]) == 0
    captured = capsys.readouterr()
    assert captured.out == EXPECTED
    assert "a_tab1_headlines.csv is not from a finished run" in captured.err
    assert "b_fig1a" not in captured.err


def _manifest(root: Path, ref: str, status: str, outputs: list[str]) -> None:
    import json

    path = root / "runs" / "demo" / f"{ref}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"notebook": ref, "status": status, "outputs": outputs}))


def test_cli_report_rewrites_the_readme_blocks(root):
    import nbformat

    _write(root, "b_fig1a", FIG1A)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Fig. 1a — curves\n\nx")])
    (root / "notebooks" / "midalign").mkdir(parents=True)
    nbformat.write(nb, root / "notebooks" / "midalign" / "fig1a_layer_retrieval.ipynb")
    _manifest(root, "midalign/fig1a_layer_retrieval", "ok",
              ["results/demo/b_fig1a.csv", "figures/demo/a.png", "figures/demo/a.pdf"])
    _manifest(root, "neuronxa/fig2_layer_scores", "failed", ["figures/demo/b.png"])
    readme = root / "README.md"
    readme.write_text("intro\n<!-- demo-report:start -->\nold table\n<!-- demo-report:end -->\n"
                      "mid\n<!-- demo-figures:start -->\nold\n<!-- demo-figures:end -->\nend\n")
    assert cli.main(["-q", "report", "--profile", "demo", "--readme", str(readme)]) == 0
    gallery = ("<details><summary><code>midalign/fig1a_layer_retrieval</code>: Fig. 1a — curves"
               "</summary>\n\n![midalign/fig1a_layer_retrieval: a](figures/demo/a.png)\n\n"
               "</details>\n")
    assert readme.read_text() == ("intro\n<!-- demo-report:start -->\n" + EXPECTED.split(
        "| `neuronxa")[0] + "<!-- demo-report:end -->\nmid\n<!-- demo-figures:start -->\n"
        + gallery + "<!-- demo-figures:end -->\nend\n")


def test_readme_without_the_markers_is_refused():
    with pytest.raises(ValueError, match="demo-report:start"):
        report.replace_block("no markers here", "demo-report", "x")


def test_readme_update_keeps_the_rows_and_figures_of_notebooks_not_rerun(root):
    _write(root, "b_fig1a", FIG1A)
    _manifest(root, "midalign/fig1a_layer_retrieval", "ok", ["figures/demo/new.png"])
    kept_row = "| `clicp/fig1_toy` | sign | +1 | 1 | linear toy | 2-D |\n"
    stale_row = "| `midalign/fig1a_layer_retrieval` | peak layer | 16 | 7 | gemma-3-270m | micro |\n"
    late_row = "| `neuronxa/tab4` | r | 0.9 | 0.5 | gemma-3-270m | micro |\n"
    header = EXPECTED.split("| `")[0]
    kept_fig = ("<details><summary><code>clicp/fig1_toy</code>: Fig. 1</summary>\n\n"
                "![clicp/fig1_toy: t](figures/demo/t.png)\n\n</details>\n")
    stale_fig = kept_fig.replace("clicp/fig1_toy", "midalign/fig1a_layer_retrieval")
    readme = root / "README.md"
    readme.write_text("<!-- demo-report:start -->\n" + header + kept_row + stale_row + late_row
                      + "<!-- demo-report:end -->\n<!-- demo-figures:start -->\n" + kept_fig
                      + "\n" + stale_fig + "<!-- demo-figures:end -->\n")
    report.update_readme("demo", readme)
    text = readme.read_text()
    fig1a_rows = EXPECTED.split("| `neuronxa")[0].split(header)[1]
    assert report.read_block(text, "demo-report") == header + kept_row + fig1a_rows + late_row
    fresh = ("<details><summary><code>midalign/fig1a_layer_retrieval</code>: "
             "midalign/fig1a_layer_retrieval</summary>\n\n"
             "![midalign/fig1a_layer_retrieval: new](figures/demo/new.png)\n\n</details>\n")
    assert report.read_block(text, "demo-figures") == kept_fig + "\n" + fresh
