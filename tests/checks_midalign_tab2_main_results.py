"""The numbers MidAlign Table 2's "What we see" quotes, recomputed from the demo results
(its smoke-output checks are ``_check_midalign_tab2`` in test_notebooks.py)."""

from __future__ import annotations

CHECKS: dict = {}


def _value(read, system, language, metric="f1", task="slot_filling"):
    table = read()
    row = table[(table.task == task) & (table.system == system) & (table.language == language)
                & (table.metric == metric)]
    assert len(row) == 1, (system, language, metric)
    return float(row.value.iloc[0])


def f1(read, system, language) -> str:
    return f"{100 * _value(read, system, language):.1f}"


def retrieval(read, system) -> str:
    return f"{100 * _value(read, system, 'all', 'retrieval_acc'):.1f} %"


def to_english(read, system, src, layer=9) -> str:
    pairs = read("_retrieval")
    row = pairs[(pairs.system == system) & (pairs.src == src) & (pairs.tgt == "en")
                & (pairs.layer == layer)]
    assert len(row) == 1, (system, src, layer)
    return f"{100 * float(row.accuracy.iloc[0]):.0f} %"


def quotes(read) -> list[str]:
    """The quoted phrases, in the order the text uses them."""
    return [
        "English slot F1 {} (the zero-shot base model: {})".format(
            f1(read, "sft", "en"), f1(read, "base", "en")),
        "German {} and Swahili {}".format(f1(read, "sft", "de"), f1(read, "sft", "sw")),
        "English {}, German {}, Swahili {}".format(
            f1(read, "sft+align", "en"), f1(read, "sft+align", "de"), f1(read, "sft+align", "sw")),
        "base {}, SFT {}, SFT + alignment {}".format(
            retrieval(read, "base"), retrieval(read, "sft"), retrieval(read, "sft+align")),
        "Swahili {} → {}, Welsh {} → {}, Japanese {} → {}".format(
            to_english(read, "base", "sw"), to_english(read, "sft+align", "sw"),
            to_english(read, "base", "cy"), to_english(read, "sft+align", "cy"),
            to_english(read, "base", "ja"), to_english(read, "sft+align", "ja")),
    ]


REF = "midalign/tab2_main_results"


def _quoted(i):
    return lambda read: quotes(read)[i]


QUOTED = {REF: [
    ("English slot F1 30.0 (the zero-shot base model: 0.0)", _quoted(0)),
    ("German 14.5 and Swahili 0.0", _quoted(1)),
    ("English 24.0, German 12.5, Swahili 6.2", _quoted(2)),
    ("base 20.8 %, SFT 21.0 %, SFT + alignment 21.6 %", _quoted(3)),
    ("Swahili 2 % → 4 %, Welsh 1 % → 3 %, Japanese 47 % → 32 %", _quoted(4)),
]}
