"""One model's share of CL-ICP Fig. 2: token states of the source language and each target
language, then the heat map (a), the sentence scatter and cosines (b) and the cosine
deviation (c) of every source-target pair. The notebook calls :func:`analyse_model` per model.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from xlnb.arch import n_blocks
from xlnb.clicp import fig2
from xlnb.clicp.tokens import check_layers, corpus_token_states, token_states

__all__ = ["analyse_model", "default_layers"]


def default_layers(model, layers, heatmap_layer, scatter_layers) -> tuple[list, int, list]:
    """(layers, heatmap layer, scatter layers) with the defaults filled in: every block
    output 1..n_blocks (App. B.1 averages over transformer layers), the middle block for
    the heat map, first / middle / last block for the scatter. Each must be in ``layers``."""
    top = n_blocks(model)
    layers = check_layers(model, list(range(1, top + 1)) if layers is None else layers)
    heat = top // 2 if heatmap_layer is None else heatmap_layer
    scatter = [1, top // 2, top] if scatter_layers is None else list(scatter_layers)
    scatter = list(dict.fromkeys(scatter))
    for name, value in [("heatmap_layer", heat)] + [("scatter_layers", v) for v in scatter]:
        if value not in layers:
            raise ValueError(f"{name} {value!r} is not among the layers analysed {layers}")
    return layers, heat, scatter


def analyse_model(model, tokenizer, texts: Mapping[str, list[str]], source: str,
                  targets: Sequence[str], *, name: str, layers=None, heatmap_layer=None,
                  scatter_layers=None, heatmap_sentence: int = 0, exclude_special: bool = True,
                  max_length: int | None = None, top: int = 10, n_boot: int = 1000,
                  seed: int = 0) -> dict:
    """Everything Fig. 2 needs from one model, as tidy tables keyed by the model ``name``.

    texts: {lang: sentences}, line-aligned, with ``source`` and every target. Returns dict
    heatmaps (list of panels for :func:`xlnb.clicp.plots.token_heatmaps`), points (PCA
    scatter), curves (sentence cosines by layer), deviation (one row per pair) and
    per_layer (cosine deviation and its two parts by layer), all with model, pair, layer.
    """
    layers, heat, scatter = default_layers(model, layers, heatmap_layer, scatter_layers)
    n = len(texts[source])
    if not 0 <= heatmap_sentence < n:
        raise ValueError(f"heatmap_sentence {heatmap_sentence} out of range 0..{n - 1}")
    kw = dict(exclude_special=exclude_special, max_length=max_length)
    states = {lang: corpus_token_states(model, tokenizer, texts[lang], layers, desc=lang, **kw)
              for lang in [source, *targets]}
    partners = fig2.random_partners(n, seed)
    pooled = {lang: fig2.pooled(st) for lang, st in states.items()}
    to_layer = dict(enumerate(layers))
    out = dict(heatmaps=[], points=[], curves=[], deviation=[], per_layer=[])
    for tgt in targets:
        pair = f"{source}-{tgt}"
        tag = dict(model=name, pair=pair)
        H_s, tok_s = token_states(model, tokenizer, texts[source][heatmap_sentence], [heat], **kw)
        H_t, tok_t = token_states(model, tokenizer, texts[tgt][heatmap_sentence], [heat], **kw)
        out["heatmaps"].append(dict(
            title=f"{name}, layer {heat}: {pair} sentence {heatmap_sentence}",
            C=fig2.token_cosine_matrix(H_s[0], H_t[0]), tokens_s=tok_s, tokens_t=tok_t,
            lang_s=source, lang_t=tgt, pair=pair, model=name))
        positions = [layers.index(v) for v in scatter]
        out["points"].append(fig2.pca_points(pooled[source], pooled[tgt], positions).assign(**tag))
        out["curves"].append(fig2.sentence_cosines(pooled[source], pooled[tgt], partners,
                                                   n_boot=n_boot, seed=seed).assign(**tag))
        overall, by_layer = fig2.deviation_tables(states[source], states[tgt], partners,
                                                  top=top, n_boot=n_boot, seed=seed)
        out["deviation"].append(dict(**tag, metric="cos_dev", **overall, n_sentences=n))
        out["per_layer"].append(by_layer.assign(**tag))
    for key in ("points", "curves", "per_layer"):
        df = pd.concat(out[key], ignore_index=True)
        out[key] = df.assign(layer=df.pop("position").map(to_layer))
    out["deviation"] = pd.DataFrame(out["deviation"])
    return out
