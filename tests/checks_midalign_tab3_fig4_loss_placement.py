"""The numbers MidAlign Table 3 / Figure 4's "What we see" quotes, recomputed from the demo
results (its smoke-output checks are ``_check_midalign_tab3`` in test_notebooks.py)."""

from __future__ import annotations

from result_rows import one as _one

REF = "midalign/tab3_fig4_loss_placement"
CHECKS: dict = {}
PLACES = ("middle", "top")  # the demo's placements (bottom: smoke and paper profiles)


def f1s(read, system) -> str:
    """``22.2 / 6.2``: supervised / transfer slot F1 (x100) of one system."""
    table = read()
    return "{:.1f} / {:.1f}".format(*(100 * _one(table, system=system, metric="f1", group=g).value
                                      for g in ("supervised", "transfer")))


def f1(read, system, language) -> str:
    return f"{100 * _one(read('_languages'), system=system, language=language, metric='f1').value:.1f}"


def sd(read, place) -> str:
    row = _one(read(), system=f"sft+align@{place}", group="transfer SD of gain")
    return f"{100 * row.value:.1f}"


def acc(read, system, layer) -> str:
    """Fig. 4's retrieval accuracy (mean over the ordered language pairs) at one layer."""
    return f"{100 * _one(read('_retrieval'), system=system, layer=layer).accuracy:.1f} %"


def _systems(read, fmt, *args):
    names = [("SFT", "sft")] + [(p, f"sft+align@{p}") for p in PLACES]
    return ", ".join(f"{label} {fmt(read, s, *args)}" for label, s in names)


QUOTED = {REF: [
    ("SFT 30.0 / 7.2, middle 24.0 / 9.3, top 13.6 / 3.6", lambda read: _systems(read, f1s)),
    ("German: SFT 14.5, middle 12.5, top 7.2", lambda read: "German: " + _systems(read, f1, "de")),
    ("Swahili: SFT 0.0, middle 6.2, top 0.0", lambda read: "Swahili: " + _systems(read, f1, "sw")),
    ("loses 6 points on English", lambda read: "loses {:.0f} points on English".format(
        100 * (_one(read("_languages"), system="sft", language="en", metric="f1").value
               - _one(read("_languages"), system="sft+align@middle", language="en",
                      metric="f1").value))),
    ("middle 5.7, top 5.1", lambda read: "middle {}, top {}".format(sd(read, "middle"), sd(read, "top"))),
    ("block 9 14.5 % → 27.2 %, block 12 40.0 % → 60.4 %, last layer 7.8 % → 65.9 %",
     lambda read: ", ".join(f"{where} {acc(read, 'sft', layer)} → {acc(read, 'sft+align@top', layer)}"
                            for where, layer in (("block 9", 9), ("block 12", 12), ("last layer", 18)))),
    ("(15.2 % at block 9)", lambda read: "({} at block 9)".format(acc(read, "sft+align@middle", 9))),
]}
