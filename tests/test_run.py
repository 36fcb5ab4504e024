"""The papermill runner and the ``xlnb`` command, on a toy project in a temporary root."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest
from fixtures.toy_project import add_notebook, make_project, write_params

from xlnb import cli, manifest, run


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project root, made current through ``XLNB_PROJECT_ROOT``; the code hash is
    taken over a stand-in package, so edits to xlnb while the tests run do not count."""
    root = make_project(tmp_path / "proj")
    monkeypatch.setenv("XLNB_PROJECT_ROOT", str(root))
    monkeypatch.delenv("XLNB_OUTPUT_LOG", raising=False)
    monkeypatch.setattr(manifest, "PACKAGE_DIR", _package(tmp_path / "pkg"))
    return root


def _package(root: Path) -> Path:
    """A stand-in for the xlnb sources: two modules, a data file, byte-code and an editor file."""
    (root / "sub" / "__pycache__").mkdir(parents=True)
    (root / "a.py").write_text("A = 1\n")
    (root / "sub" / "b.py").write_text("B = 2\n")
    (root / "sub" / "words.txt").write_text("hallo\n")
    (root / "sub" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"\0")
    return root


def _files(root: Path, sub: str) -> list[Path]:
    """All files (hidden ones included) under ``root/sub``."""
    base = root / sub
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def _value(root: Path, profile: str = "smoke") -> float:
    """The ``value`` column the toy notebook writes (n * scale)."""
    return float(pd.read_csv(root / "results" / profile / "toy_table.csv")["value"].iloc[0])


# ---------------------------------------------------------------- discovery and parameters
def test_list_notebooks_titles_and_profiles(project):
    add_notebook(project, "toy/ok", {"smoke": {}, "paper": {"n": 9}}, title="Figure 2: toy")
    add_notebook(project, "toy/other", {"demo": {}})
    listed = {n["notebook"]: n for n in run.list_notebooks()}
    assert listed["toy/ok"]["title"] == "Figure 2: toy"
    assert listed["toy/ok"]["profiles"] == ["smoke", "paper"]
    assert listed["toy/other"]["profiles"] == ["demo"]


def test_notebook_parameters_types_and_defaults(project):
    path = add_notebook(project, "toy/ok")
    params = run.notebook_parameters(path)
    assert params["n"] == ("int", 3)
    assert params["scale"] == ("float", 1.0)
    assert params["langs"] == ("list", ["en"])
    assert params["profile"] == ("str", "smoke")
    assert params["fail"] == ("bool", False)
    assert params["note"][1] is None
    inspected = papermill.inspect_notebook(str(path))
    assert list(params) == list(inspected)
    assert all(ast.literal_eval(inspected[k]["default"]) == v[1] for k, v in params.items())


def test_notebook_without_parameters_cell_accepts_no_parameter(project):
    path = add_notebook(project, "toy/ok")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, path)
    assert run.notebook_parameters(path) == {}
    with pytest.raises(ValueError, match="unknown parameter 'profile'"):
        run.validate_params(path, {"profile": "smoke"})


@pytest.mark.parametrize("params", [
    {"scale": 2}, {"note": [1, 2]}, {"note": "x"}, {"langs": ["en", "de"]}, {"fail": True},
])
def test_validate_params_accepts(project, params):
    run.validate_params(add_notebook(project, "toy/ok"), params)


@pytest.mark.parametrize("params, expected", [
    ({"n": "three"}, "'n'.*expected int, got str"),
    ({"n": True}, "'n'.*expected int, got bool"),
    ({"n": 2.5}, "'n'.*expected int, got float"),
    ({"scale": "1.0"}, "'scale'.*expected float, got str"),
    ({"langs": "en"}, "'langs'.*expected list, got str"),
    ({"fail": 1}, "'fail'.*expected bool, got int"),
])
def test_validate_params_rejects_wrong_type(project, params, expected):
    with pytest.raises(TypeError, match=expected):
        run.validate_params(add_notebook(project, "toy/ok"), params)


def test_unknown_key_and_wrong_type_rejected_before_any_kernel(project):
    add_notebook(project, "toy/ok", {"smoke": {"n_pairs": 3}, "demo": {"n": "many"}})
    with pytest.raises(ValueError, match=r"unknown parameter 'n_pairs'.*valid: profile, n, scale"):
        run.run_notebook("toy/ok", "smoke")
    with pytest.raises(TypeError, match="'n'"):
        run.run_notebook("toy/ok", "demo")
    with pytest.raises(ValueError, match="'bogus'"):
        run.run_notebook("toy/ok", "demo", {"bogus": 1})
    assert _files(project, "runs") == [] and _files(project, "results") == []


def test_missing_params_file_and_unknown_profile(project):
    add_notebook(project, "toy/ok", {"smoke": {}})
    with pytest.raises(FileNotFoundError, match=r"params/paper/toy/ok\.yaml"):
        run.run_notebook("toy/ok", "paper")
    with pytest.raises(ValueError, match="unknown profile 'huge'.*smoke, demo, paper"):
        run.run_notebook("toy/ok", "huge")


def test_resolve_ref_forms_and_suggestions(project, monkeypatch):
    path = add_notebook(project, "midalign/fig1a_layer_retrieval")
    monkeypatch.chdir(project)
    for form in ("midalign/fig1a_layer_retrieval", "midalign/fig1a_layer_retrieval.ipynb",
                 "notebooks/midalign/fig1a_layer_retrieval.ipynb", str(path)):
        assert run.resolve_ref(form) == "midalign/fig1a_layer_retrieval"
    with pytest.raises(LookupError, match="did you mean: midalign/fig1a_layer_retrieval"):
        run.resolve_ref("midalign/fig1a_layer_retreival")


# ---------------------------------------------------------------- failure paths without a kernel
def _fake_execute(write: bool, raise_exc: BaseException | None):
    """A stand-in for papermill: optionally writes the output notebook, then raises."""
    def execute(ref, params, out, output_log):
        if write:
            Path(out).write_text("{}")
        if raise_exc is not None:
            raise raise_exc
    return execute


def test_failed_run_removes_previous_manifest_and_keeps_failed_notebook(project, monkeypatch):
    add_notebook(project, "toy/ok", {"smoke": {}})
    manifest = project / "runs/smoke/toy/ok.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"status": "ok"}))
    monkeypatch.setattr(run, "_execute", _fake_execute(True, RuntimeError("cell broke")))
    result = run.run_notebook("toy/ok", "smoke")
    assert result.status == "failed" and "cell broke" in result.error
    assert not manifest.exists()
    assert [p.name for p in _files(project, "runs")] == ["ok.failed.ipynb"]


def test_interrupted_run_leaves_nothing_trusted(project, monkeypatch):
    add_notebook(project, "toy/ok", {"smoke": {}})
    monkeypatch.setattr(run, "_execute", _fake_execute(True, KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        run.run_notebook("toy/ok", "smoke")
    assert _files(project, "runs") == []


# ---------------------------------------------------------------- code hash and manifest
def _counting_execute(calls: list):
    """A stand-in for papermill that records (ref, params) and writes the output notebook."""
    def execute(ref, params, out, output_log):
        calls.append((ref, dict(params)))
        Path(out).write_text("{}")
    return execute


def test_code_hash_covers_the_installed_package():
    import xlnb

    assert manifest.PACKAGE_DIR == Path(xlnb.__file__).resolve().parent
    assert (manifest.PACKAGE_DIR / "run.py").is_file()


def test_code_hash_follows_sources_not_caches(tmp_path):
    pkg = _package(tmp_path / "other")
    first = run.code_hash(pkg)
    (pkg / "sub/__pycache__/b.cpython-311.pyc").write_bytes(b"changed")
    (pkg / ".a.py.swp").write_text("editor")
    assert run.code_hash(pkg) == first
    for change in (lambda: (pkg / "sub/b.py").write_text("B = 3\n"),
                   lambda: (pkg / "sub/words.txt").write_text("hallo welt\n"),
                   lambda: (pkg / "c.py").write_text(""),
                   lambda: (pkg / "c.py").rename(pkg / "sub/c.py")):
        before = run.code_hash(pkg)
        change()
        assert run.code_hash(pkg) != before


def test_changed_package_code_reruns_the_notebook(project, tmp_path, monkeypatch):
    add_notebook(project, "toy/ok", {"smoke": {}})
    calls = []
    monkeypatch.setattr(run, "_execute", _counting_execute(calls))
    statuses = [run.run_notebook("toy/ok", "smoke").status]
    statuses.append(run.run_notebook("toy/ok", "smoke").status)
    assert run.up_to_date("toy/ok", "smoke", run.load_params("toy/ok", "smoke")) is not None
    (tmp_path / "pkg/sub/b.py").write_text("B = 3\n")
    assert run.up_to_date("toy/ok", "smoke", run.load_params("toy/ok", "smoke")) is None
    statuses.append(run.run_notebook("toy/ok", "smoke").status)
    statuses.append(run.run_notebook("toy/ok", "smoke").status)
    assert statuses == ["ok", "skipped", "ok", "skipped"] and len(calls) == 2


def test_manifest_records_versions_device_and_code(project, monkeypatch):
    import peft
    import torch
    import transformers

    import xlnb

    add_notebook(project, "toy/ok", {"smoke": {}})
    monkeypatch.setattr(run, "_execute", _counting_execute([]))
    assert run.run_notebook("toy/ok", "smoke").status == "ok"
    manifest = json.loads((project / "runs/smoke/toy/ok.json").read_text())
    assert manifest["versions"] == {"xlnb": xlnb.__version__, "torch": torch.__version__,
                                    "transformers": transformers.__version__,
                                    "peft": peft.__version__}
    expected = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"
    assert manifest["device"] == expected
    assert manifest["python"] == ".".join(map(str, sys.version_info[:3]))
    assert manifest["code_hash"] == run.code_hash(project.parent / "pkg")
    assert manifest["git"] is None  # the toy project is no git checkout


# ---------------------------------------------------------------- profile-wide overrides
def _add_extra_parameter(root: Path, ref: str) -> None:
    """Give one toy notebook a parameter the others lack."""
    path = root / "notebooks" / f"{ref}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "extra = 0\n"
    nbformat.write(nb, path)


def test_reproduce_overrides_apply_where_declared(project, monkeypatch, capsys):
    add_notebook(project, "toy/a", {"smoke": {"n": 2}})
    add_notebook(project, "toy/b", {"smoke": {}})
    _add_extra_parameter(project, "toy/a")
    calls = []
    monkeypatch.setattr(run, "_execute", _counting_execute(calls))
    results = run.reproduce("smoke", overrides={"extra": 5, "n": 7})
    assert dict(calls) == {"toy/a": {"n": 7, "extra": 5, "profile": "smoke"},
                           "toy/b": {"n": 7, "profile": "smoke"}}
    assert [(r.notebook, r.status, r.ignored) for r in results] == [
        ("toy/a", "ok", []), ("toy/b", "ok", ["extra"])]
    assert [r.status for r in run.reproduce("smoke", overrides={"extra": 5, "n": 7})] == \
        ["skipped", "skipped"]
    assert cli.main(["-q", "reproduce", "--profile", "smoke", "-p", "extra=6"]) == 0
    out = capsys.readouterr().out
    assert "toy/a     ok" in out and "toy/b     ok" in out  # n back to the params files
    assert "-p extra: not a parameter of toy/b (run without it)" in out
    assert calls[-2:] == [("toy/a", {"n": 2, "extra": 6, "profile": "smoke"}),
                          ("toy/b", {"profile": "smoke"})]


@pytest.mark.parametrize("overrides, error, message", [
    ({"extar": 1}, ValueError, "no selected notebook has a parameter 'extar'"),
    ({"extra": "many"}, TypeError, "'extra'.*expected int, got str"),
    ({"n": 1.5}, TypeError, "'n'.*expected int, got float"),
    ({"profile": "demo"}, ValueError, "profile option"),
])
def test_reproduce_bad_overrides_fail_before_any_kernel(project, monkeypatch, overrides, error,
                                                        message):
    add_notebook(project, "toy/a", {"smoke": {}})
    add_notebook(project, "toy/b", {"smoke": {}})
    _add_extra_parameter(project, "toy/b")
    calls = []
    monkeypatch.setattr(run, "_execute", _counting_execute(calls))
    with pytest.raises(error, match=message):
        run.reproduce("smoke", overrides=overrides)
    assert calls == [] and _files(project, "runs") == []


def test_reproduce_override_only_in_unselected_notebook_is_an_error(project, monkeypatch):
    add_notebook(project, "toy/a", {"smoke": {}})
    add_notebook(project, "other/b", {"smoke": {}})
    _add_extra_parameter(project, "other/b")
    monkeypatch.setattr(run, "_execute", _counting_execute([]))
    with pytest.raises(ValueError, match="'extra'"):
        run.reproduce("smoke", only="toy/*", overrides={"extra": 1})


# ---------------------------------------------------------------- real executions
@pytest.mark.slow
def test_run_executes_with_outputs_manifest_and_own_interpreter(project, monkeypatch):
    add_notebook(project, "toy/ok", {"smoke": {"n": 3, "scale": 1.5, "langs": ["en", "de"]}})
    # no registered kernelspec is consulted: the kernel is this interpreter's ipykernel
    monkeypatch.setattr(run, "KERNEL_NAME", "no-such-kernelspec")
    result = run.run_notebook("toy/ok", "smoke", {"n": 4})
    assert result.status == "ok", result.error
    table = pd.read_csv(project / "results/smoke/toy_table.csv")
    assert table["value"].iloc[0] == pytest.approx(4 * 1.5)
    assert table["langs"].iloc[0] == "en+de"
    assert table["batch"].iloc[0] == 1
    assert Path(table["executable"].iloc[0]) == Path(sys.executable)
    assert Path(table["cwd"].iloc[0]) == project / "notebooks/toy"
    expected = {project / f for f in ("results/smoke/toy_table.csv", "figures/smoke/toy_figure.png",
                                      "figures/smoke/toy_figure.pdf",
                                      "results/smoke/toy_headlines.csv")}
    assert set(result.outputs) == expected
    headlines = pd.read_csv(project / "results/smoke/toy_headlines.csv")
    assert headlines["notebook"].tolist() == ["toy/ok"]  # the runner names the notebook
    assert headlines["ours"].tolist() == [pytest.approx(6.0)]
    manifest = json.loads((project / "runs/smoke/toy/ok.json").read_text())
    assert manifest["status"] == "ok" and manifest["params"]["n"] == 4
    assert manifest["params"]["profile"] == "smoke"
    assert sorted(manifest["outputs"]) == sorted(str(p.relative_to(project)) for p in expected)
    executed = nbformat.read(project / "runs/smoke/toy/ok.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert "IProgress" not in json.dumps([c.get("outputs", []) for c in executed.cells])
    assert [p.name for p in _files(project, "runs")] == ["ok.ipynb", "ok.json"]
    assert run.run_notebook("toy/ok", "smoke", {"n": 4}).status == "skipped"


@pytest.mark.slow
def test_reproduce_keeps_going_skips_and_reruns(project, capsys):
    add_notebook(project, "toy/a_broken", {"smoke": {"fail": True, "name": "broken"}})
    add_notebook(project, "toy/b_ok", {"smoke": {"n": 2, "scale": 2.0}})
    assert cli.main(["-q", "reproduce", "--profile", "smoke"]) == 1
    out = capsys.readouterr().out
    assert "toy/a_broken  failed" in out and "toy/b_ok      ok" in out
    assert "RuntimeError: toy failure requested" in out
    assert not (project / "runs/smoke/toy/a_broken.json").exists()
    assert (project / "runs/smoke/toy/a_broken.failed.ipynb").exists()
    assert _value(project) == 4.0

    def status():
        [result] = run.reproduce("smoke", only="toy/b_*")
        return result.status

    assert status() == "skipped"
    write_params(project, "toy/b_ok", "smoke", {"n": 5, "scale": 2.0})
    assert status() == "ok" and _value(project) == 10.0
    assert status() == "skipped"
    (project / "figures/smoke/toy_figure.pdf").unlink()
    assert status() == "ok" and (project / "figures/smoke/toy_figure.pdf").exists()


# ---------------------------------------------------------------- command line
def test_cli_list(project, capsys):
    add_notebook(project, "toy/ok", {"smoke": {}, "demo": {}}, title="Table 3: toy table")
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toy/ok" in out and "Table 3: toy table" in out and "smoke, demo" in out


@pytest.mark.parametrize("argv, message", [
    (["run", "toy/okk", "--profile", "smoke"], "did you mean: toy/ok"),
    (["run", "toy/ok", "--profile", "huge"], "unknown profile 'huge'"),
    (["run", "toy/ok", "--profile", "smoke", "-p", "n"], "expected key=value"),
    (["run", "toy/ok", "--profile", "smoke", "-p", "n=[1"], "bad value"),
    (["run", "toy/ok", "--profile", "smoke", "-p", "n=x"], "expected int, got str"),
    (["reproduce", "--profile", "smoke", "--only", "nope/*"], "matches 'nope/*'"),
])
def test_cli_bad_input_is_one_line_error(project, capsys, argv, message):
    add_notebook(project, "toy/ok", {"smoke": {}})
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert _files(project, "runs") == []


def test_cli_run_failure_exits_non_zero(project, monkeypatch, capsys):
    add_notebook(project, "toy/ok", {"smoke": {}})
    monkeypatch.setattr(run, "_execute", _fake_execute(True, RuntimeError("cell broke")))
    assert cli.main(["-q", "run", "toy/ok", "--profile", "smoke", "-p", "n=5"]) == 1
    assert "cell broke" in capsys.readouterr().out


def test_parse_override_reads_yaml():
    assert cli.parse_override("n=3") == ("n", 3)
    assert cli.parse_override("langs=[en, de]") == ("langs", ["en", "de"])
    assert cli.parse_override("scale=0.5") == ("scale", 0.5)
    assert cli.parse_override("name=a=b") == ("name", "a=b")


# ---------------------------------------------------------------- installation
def test_environment_yml_kernel_command_registers_this_interpreter(tmp_path):
    import re
    import shlex
    import subprocess

    import yaml

    text = (Path(__file__).resolve().parents[1] / "environment.yml").read_text()
    spec = yaml.safe_load(text)
    assert spec["dependencies"][-1] == {"pip": ["-e .[demo,dev]"]}
    [command] = re.findall(r"^#\s+(python -m ipykernel install .*)$", text, flags=re.M)
    args = shlex.split(command)[1:]
    assert "--user" in args and "--name" in args
    args = [a for a in args if a != "--user"] + ["--prefix", str(tmp_path)]  # not the user's dir
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    name = args[args.index("--name") + 1]
    spec = json.loads((tmp_path / "share/jupyter/kernels" / name / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable and spec["display_name"] == "Python (xlnb)"
