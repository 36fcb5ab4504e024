"""lm-evaluation-harness results JSON -> long table, on hand-written files."""

import json
import math

import pandas as pd
import pytest

from xlnb.evaluate.lm_eval_results import read_lm_eval_results, task_language

# The shape lm-eval >= 0.4 writes (metric,filter keys, alias entries, a group row).
NEW = {
    "results": {
        "xnli": {"alias": "xnli", "acc,none": 0.40, "acc_stderr,none": 0.004},
        "xnli_de": {"alias": " - xnli_de", "acc,none": 0.45, "acc_stderr,none": 0.01},
        "belebele_deu_Latn": {"alias": "belebele_deu_Latn", "acc,none": 0.3,
                              "acc_stderr,none": 0.015, "acc_norm,none": 0.31,
                              "acc_norm_stderr,none": 0.0154},
        "m_mmlu_de": {"alias": "m_mmlu_de", "acc,none": 0.27, "acc_stderr,none": "N/A"},
        "gsm8k": {"exact_match,strict-match": 0.1, "exact_match_stderr,strict-match": 0.008,
                  "sample_len": 1319},
    },
    "config": {"model": "hf", "model_args": "pretrained=EleutherAI/pythia-160m,dtype=float32"},
    "model_name": "EleutherAI/pythia-160m",
}

# Older releases: bare metric names, model only in config.model_args.
OLD = {
    "results": {"xcopa_et": {"acc": 0.52, "acc_stderr": 0.022},
                "arc_de": {"acc": 0.2, "acc_norm": 0.25, "acc_norm_stderr": 0.012}},
    "versions": {"xcopa_et": 0, "arc_de": 0},
    "config": {"model": "hf-causal", "model_args": "pretrained=bigscience/bloom-560m"},
}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "run1").mkdir()
    new = tmp_path / "run1" / "results_2024-05-01T10-00-00.json"
    old = tmp_path / "old.json"
    new.write_text(json.dumps(NEW), encoding="utf-8")
    old.write_text(json.dumps(OLD), encoding="utf-8")
    return new, old


def test_new_format(files):
    df = read_lm_eval_results(files[0])
    assert list(df.columns) == ["model", "task", "language", "metric", "value", "stderr"]
    assert set(df["model"]) == {"EleutherAI/pythia-160m"}
    row = df[(df.task == "belebele_deu_Latn") & (df.metric == "acc_norm")].iloc[0]
    assert (row.language, row.value, row.stderr) == ("deu_Latn", 0.31, 0.0154)
    row = df[df.task == "xnli_de"].iloc[0]
    assert (row.language, row.metric, row.value, row.stderr) == ("de", "acc", 0.45, 0.01)
    assert math.isnan(df[df.task == "m_mmlu_de"].iloc[0].stderr)
    gsm = df[df.task == "gsm8k"]
    assert list(gsm.metric) == ["exact_match,strict-match"] and gsm.iloc[0].stderr == 0.008
    assert pd.isna(df[df.task == "xnli"].iloc[0].language)
    assert len(df) == 6  # alias and sample_len are not metrics


def test_old_format_and_several_paths(files, tmp_path):
    df = read_lm_eval_results([tmp_path / "run1", files[1]])
    old = df[df.model == "bigscience/bloom-560m"]
    assert set(old.task) == {"xcopa_et", "arc_de"}
    row = old[old.task == "xcopa_et"].iloc[0]
    assert (row.language, row.metric, row.value, row.stderr) == ("et", "acc", 0.52, 0.022)
    arc = old[old.task == "arc_de"].set_index("metric")
    assert math.isnan(arc.loc["acc", "stderr"]) and arc.loc["acc_norm", "stderr"] == 0.012
    assert len(df) == 6 + 3
    assert set(read_lm_eval_results(files[1], model="bloom").model) == {"bloom"}


@pytest.mark.parametrize("task, lang", [
    ("belebele_deu_Latn", "deu_Latn"), ("belebele_zho_Hans", "zho_Hans"), ("xnli_de", "de"),
    ("arc_de", "de"), ("m_mmlu_de", "de"), ("xcopa_et", "et"), ("hellaswag_es", "es"),
    ("pawsx_zh-cn", "zh-cn"), ("arc_challenge", "challenge"), ("xnli", None),
])
def test_task_language(task, lang):
    assert task_language(task) == lang


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.json"):
        read_lm_eval_results(tmp_path / "missing.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no results"):
        read_lm_eval_results(tmp_path / "empty")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        read_lm_eval_results(bad)
    bad.write_text(json.dumps({"samples": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="no 'results'"):
        read_lm_eval_results(bad)
