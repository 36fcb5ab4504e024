"""choose_downstream: which accuracy source a correlations run uses, and when it skips."""

from xlnb.neuronxa.downstream import choose_downstream


def test_lm_eval_results_win_when_present(tmp_path):
    results = tmp_path / "results.json"
    results.write_text("{}")
    src = choose_downstream(str(results), "xnli", str(tmp_path))
    assert src.kind == "lm_eval" and src.path == results


def test_missing_paths_skip_with_a_message(tmp_path):
    missing = str(tmp_path / "nope")
    src = choose_downstream(missing, "xnli", None)
    assert src.kind is None and "nope" in src.message
    src = choose_downstream(None, "xnli", missing)
    assert src.kind is None and "xnli" in src.message and "nope" in src.message
    assert choose_downstream(None, None, None).kind is None


def test_task_from_local_folder_or_hub(tmp_path):
    src = choose_downstream(None, "xcopa", str(tmp_path))
    assert src.kind == "task" and src.path == tmp_path
    hub = choose_downstream(None, "xcopa", None)
    assert hub.kind == "task" and hub.path is None and "hub" in hub.message
