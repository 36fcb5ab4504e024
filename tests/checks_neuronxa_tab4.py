"""The numbers NeuronXA Table 4's "What we see" quotes, recomputed from the demo results
(its smoke-output checks are ``_check_tab4`` in test_notebooks.py)."""

from __future__ import annotations

from result_rows import one

REF = "neuronxa/tab4_correlations"
CHECKS: dict = {}


def _accuracy(read, lang, interval=False):
    rows = read("_per_language")
    row = rows[(rows.lang == lang)].iloc[0]  # accuracy repeats on every method's rows
    text = f"{row.accuracy:.2f}"
    return text + (f" [{row.ci_low:.2f}, {row.ci_high:.2f}]" if interval else "")


def _pearson(read, method, pooling="weighted"):
    row = one(read(), method=method, pooling=pooling, stat="pearson")
    return f"{row.r:.3f} (p {row.p:.3f})"


def _score(read, lang, method="nasca", pooling="weighted"):
    return f"{one(read('_per_language'), lang=lang, method=method, pooling=pooling).score:.3f}"


QUOTED = {REF: [
    ("el 0.29 [0.21, 0.38], es 0.39 [0.29, 0.48], sw 0.34, tr 0.34, zh 0.34",
     lambda read: "el {}, es {}, sw {}, tr {}, zh {}".format(
         _accuracy(read, "el", True), _accuracy(read, "es", True),
         *(_accuracy(read, x) for x in ("sw", "tr", "zh")))),
    ("MEXA 0.592 (p 0.293), NASCA 0.439 (p 0.459), NAVCA 0.614 (p 0.271)",
     lambda read: "MEXA {}, NASCA {}, NAVCA {}".format(
         *(_pearson(read, m) for m in ("mexa", "nasca", "navca")))),
    ("smallest p of all 24 rows is 0.215",
     lambda read: f"smallest p of all {len(read())} rows is {read().p.min():.3f}"),
    ("es 0.814, zh 0.754, el 0.409, tr 0.332, sw 0.019",
     lambda read: ", ".join(f"{x} {_score(read, x)}" for x in ("es", "zh", "el", "tr", "sw"))),
]}
