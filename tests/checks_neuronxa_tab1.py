"""The numbers NeuronXA Table 1's "What we see" quotes, recomputed from the demo results
(its smoke-output checks are ``_check_tab1`` in test_notebooks.py)."""

from __future__ import annotations

CHECKS: dict = {}
REF = "neuronxa/tab1_retrieval_embedding_vs_nas"


def acc(read, pooled, bos, representation, group, interval=False) -> str:
    table = read()
    row = table[(table.direction == "bidirectional") & (table.layers_pooled == pooled)
                & (table.bos == bos) & (table.representation == representation)
                & (table.group == group)]
    assert len(row) == 1, (pooled, bos, representation, group)
    row = row.iloc[0]
    text = f"{100 * row.value:.1f}"
    return text + (f" [{100 * row.ci_low:.1f}, {100 * row.ci_high:.1f}]" if interval else "")


def _pair(pooled, bos, group, interval=False):
    return lambda read: "NAS {} vs Embedding {}".format(
        acc(read, pooled, bos, "NAS", group, interval),
        acc(read, pooled, bos, "Embedding", group, interval))


QUOTED = {REF: [
    ("NAS 79.9 [76.4, 83.1] vs Embedding 68.8 [65.3, 72.1]",
     _pair("best_layer", "kept", "head", True)),
    ("NAS 79.1 vs Embedding 74.9", _pair("best_layer", "excluded", "head")),
    ("NAS 20.0 vs Embedding 3.3", _pair("best_layer", "kept", "long-tail")),
    ("NAS 20.7 vs Embedding 7.4", _pair("best_layer", "excluded", "long-tail")),
    ("NAS 9.8 vs Embedding 31.0", _pair("max_vector", "kept", "head")),
]}
