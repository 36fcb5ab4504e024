"""NeuronXA Table 1 (retrieval with embeddings vs NAS, head vs long-tail; App. C Table 5
with other pivots), with bootstrap intervals over sentences.

Every language is retrieved against a pivot in three directions, ``pivot_to_xx``,
``xx_to_pivot`` and ``bidirectional`` (both must succeed), at every layer. §3.1 says only
"given the model's depth, we apply max-pooling"; one number per language comes from the
layers by ``layers_pooled``, a choice the paper leaves open:

* ``max_vector`` — the literal reading: the element-wise max over layers of each sentence
  vector (:func:`max_over_layers`), then one retrieval on those vectors;
* ``best_layer`` — the best layer per language and direction, chosen on held-out
  *selection* sentences and scored on the others (:func:`selection_split`), so the choice
  never sees the sentences it is scored on;
* ``mean`` — the mean over layers (how §2.2 aggregates NASCA);
* ``single`` — one layer (row index into the L layers), e.g. a middle block.

A group's value is the mean over its languages. Its interval resamples the scored
sentences, the same resample for every language (with Tatoeba, where each language has its
own sentences, a joint resample of independent samples is still a valid resample of each).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from xlnb.metrics import bootstrap_item_means

__all__ = ["LAYER_POOLINGS", "head_long_tail", "max_over_layers", "selection_split",
           "choose_layers", "bootstrap_groups", "retrieval_summary", "layer_accuracy",
           "paper_layout"]

LAYER_POOLINGS = ("max_vector", "best_layer", "mean", "single")


def head_long_tail(languages: Sequence[str], pivot: str,
                   head: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Table 1's groups of the languages other than ``pivot``: ``head`` and ``long-tail``.

    head: the head languages (App. A's lists); None: NLLB's high-resource languages from the
    registry. English is always head when it is not the pivot: App. A's long tail excludes
    English, so with ``pivot="de"`` (App. C Table 5) English must not land in the long tail.
    """
    from xlnb.data import get_language, high_resource

    if pivot not in languages:
        raise ValueError(f"pivot {pivot!r} is not among the languages {list(languages)}")
    others = [x for x in languages if x != pivot]
    if head is None:
        chosen = set(high_resource(others))
    else:
        wanted = {get_language(x).flores for x in head}
        chosen = {x for x in others if get_language(x).flores in wanted}
    chosen |= {x for x in others if get_language(x).iso1 == "en"}
    return {"head": [x for x in others if x in chosen],
            "long-tail": [x for x in others if x not in chosen]}


def max_over_layers(reps: Mapping) -> dict[str, torch.Tensor]:
    """Element-wise max over layers of each sentence vector: language -> ``[1, N, d]``.

    reps: language -> ``[L, N, d]`` (tensors or lazy handles, read one layer at a time).
    """
    out = {}
    for lang, r in reps.items():
        best = None
        for layer in range(r.shape[0]):
            x = torch.as_tensor(r[layer]).float()
            best = x.clone() if best is None else torch.maximum(best, x)
        out[lang] = best[None]
    return out


def selection_split(n: int, fraction: float = 0.25, seed: int = 0) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """(selection, scored): sorted sentence indices, a seeded random ``fraction`` of the
    ``n`` sentences (at least one) to choose a layer on, and the rest to score."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    k = max(1, int(round(fraction * n)))
    if n - k < 2:
        raise ValueError(f"{n} sentences leave fewer than 2 to score after selecting on {k}")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:k]), np.sort(perm[k:])


def choose_layers(hits: torch.Tensor, how: str, *, layer: int | None = None,
                  select=None) -> tuple[torch.Tensor, np.ndarray | None]:
    """The hits a pooled score averages over, ``[L, G, N] -> [L', G, N']``, and the chosen
    layer row per language (``best_layer``; else None).

    ``max_vector`` expects hits of max-pooled vectors (``L = 1``) and ``mean`` keeps every
    layer; both keep all sentences. ``single``: row ``layer`` (default the middle, L // 2).
    ``best_layer``: per language the row with the highest accuracy on the ``select``
    sentences (first row on ties), scored on the other sentences.
    """
    if how not in LAYER_POOLINGS:
        raise ValueError(f"unknown layer pooling {how!r}; use one of {LAYER_POOLINGS}")
    if hits.dim() != 3:
        raise ValueError(f"hits must be [L, G, N], got shape {tuple(hits.shape)}")
    n_layers, _, n = hits.shape
    if how == "max_vector" and n_layers != 1:
        raise ValueError(f"max_vector needs hits of max-pooled vectors (1 layer), got {n_layers}")
    if how in ("max_vector", "mean"):
        return hits, None
    if how == "single":
        index = n_layers // 2 if layer is None else layer
        if not isinstance(index, (int, np.integer)) or not 0 <= index < n_layers:
            raise ValueError(f"layer {layer!r} out of range: there are {n_layers} layers "
                             f"(0..{n_layers - 1})")
        return hits[index:index + 1], None
    if select is None:
        raise ValueError("best_layer needs the selection sentences (select=...)")
    select = np.asarray(select)
    scored = np.setdiff1d(np.arange(n), select)
    best = hits[:, :, select].double().mean(dim=2).argmax(dim=0).numpy()  # [G]
    rows = [hits[b, g][scored] for g, b in enumerate(best)]
    return torch.stack(rows)[None], best


def bootstrap_groups(hits: torch.Tensor, columns: Mapping[str, Sequence[int]], *,
                     n_boot: int = 1000, alpha: float = 0.05,
                     seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """Group means of the layer-averaged accuracy with percentile bootstrap intervals.

    hits: bool ``[L, G, N]`` (after :func:`choose_layers`); columns: group -> indices into
    G. For each group ``(estimate, low, high)``: the mean over its languages of the mean
    over layers and sentences, and the ``alpha/2``, ``1 - alpha/2`` quantiles over
    ``n_boot`` resamples of the N sentences (one resample for all languages and layers).
    """
    if hits.dim() != 3:
        raise ValueError(f"hits must be [L, G, N], got shape {tuple(hits.shape)}")
    empty = [name for name, cols in columns.items() if len(cols) == 0]
    if empty:
        raise ValueError(f"groups {empty} have no languages")
    cols = [list(c) for c in columns.values()]

    def group_means(acc):  # [B, L, G] -> [B, groups]
        pooled = acc.mean(dim=-2)
        return torch.stack([pooled[:, c].mean(dim=-1) for c in cols], dim=-1)

    est, low, high = bootstrap_item_means(hits, group_means, n_boot=n_boot, alpha=alpha,
                                          seed=seed)
    return {name: (float(est[i]), float(low[i]), float(high[i]))
            for i, name in enumerate(columns)}


def retrieval_summary(langs: Sequence[str], hits: Mapping[str, torch.Tensor],
                      groups: Mapping[str, Sequence[str]], how: str, *,
                      layer: int | None = None, select=None, layer_labels=None,
                      n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """NeuronXA Table 1 for one representation: accuracy per direction and language group.

    langs, hits: from :func:`xlnb.metrics.pivot_hits` (direction -> ``[L, G, N]``); groups:
    name (``head``, ``long-tail``) -> languages, empty groups left out; how, layer, select:
    see :func:`choose_layers`; layer_labels: names of the L rows, for the ``layers`` column
    (the chosen layer of each language, ``best_layer`` only). Columns ``direction, group,
    accuracy, ci_low, ci_high, n_langs, n_scored, layers``.
    """
    unknown = sorted({x for members in groups.values() for x in members} - set(langs))
    if unknown:
        raise ValueError(f"group languages {unknown} are not among the retrieved {list(langs)}")
    columns = {name: [langs.index(x) for x in members]
               for name, members in groups.items() if members}
    if not columns:
        raise ValueError("every group is empty")
    rows = []
    for direction, h in hits.items():
        kept, best = choose_layers(h, how, layer=layer, select=select)
        labels = list(range(h.shape[0])) if layer_labels is None else list(layer_labels)
        got = bootstrap_groups(kept, columns, n_boot=n_boot, alpha=alpha, seed=seed)
        for name, cols in columns.items():
            chosen = "" if best is None else " ".join(
                f"{langs[c]}:{labels[best[c]]}" for c in cols)
            rows.append((direction, name, *got[name], len(cols), kept.shape[2], chosen))
    return pd.DataFrame(rows, columns=["direction", "group", "accuracy", "ci_low", "ci_high",
                                       "n_langs", "n_scored", "layers"])


def layer_accuracy(langs: Sequence[str], hits: Mapping[str, torch.Tensor],
                   groups: Mapping[str, Sequence[str]], *, layers=None) -> pd.DataFrame:
    """Accuracy per language, direction and layer: columns ``lang, group, direction, layer,
    accuracy``. hits: direction -> bool ``[L, G, N]`` (:func:`xlnb.metrics.pivot_hits`);
    layers: labels of the L rows (default 1..L, block numbers)."""
    group_of = {x: name for name, members in groups.items() for x in members}
    rows = []
    for direction, h in hits.items():
        labels = list(range(1, h.shape[0] + 1)) if layers is None else list(layers)
        acc = h.double().mean(dim=2)  # [L, G]
        rows += [(lang, group_of.get(lang), direction, label, acc[li, gi].item())
                 for gi, lang in enumerate(langs) for li, label in enumerate(labels)]
    return pd.DataFrame(rows, columns=["lang", "group", "direction", "layer", "accuracy"])


def paper_layout(table: pd.DataFrame, pivot: str) -> pd.DataFrame:
    """Table 1 as the paper prints it: one row per representation (and BOS variant, layer
    pooling) and direction, one column per group, cells ``"acc [low, high]"`` in percent.

    table: rows of :func:`retrieval_summary` with a ``representation`` column (and
    optionally ``model``, ``data``, ``bos``, ``layers_pooled``).
    """
    name = pivot.capitalize() if len(pivot) == 2 else pivot
    arrows = {"pivot_to_xx": f"{name}→xx", "xx_to_pivot": f"xx→{name}",
              "bidirectional": f"{name}⇔xx"}
    cells = table.assign(
        direction=table["direction"].map(arrows),
        cell=[f"{100 * a:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"
              for a, lo, hi in zip(table.accuracy, table.ci_low, table.ci_high)])
    index = [c for c in ("model", "data", "layers_pooled", "bos", "representation",
                         "direction") if c in table.columns]
    wide = cells.pivot_table(index=index, columns="group", values="cell", aggfunc="first",
                             sort=False)
    return wide.rename_axis(columns=None)


def bitext_pivot_hits(reps: Mapping[str, Mapping], pivot: str, *, max_vector: bool = False,
                      margin: str = "cosine", k: int = 4):
    """:func:`xlnb.metrics.pivot_hits` over per-language bitexts, for sources whose pivot
    side differs per language (Tatoeba: each language has its own English sentences).

    reps: language -> ``{pivot: [L, N, d], language: [L, N, d]}``
    (:func:`xlnb.layerwise.bitext_reps`), the same N for every language. max_vector: retrieve
    with :func:`max_over_layers` vectors (L = 1). Returns ``(langs, {direction: [L, G, N]})``.
    """
    from xlnb.metrics import pivot_hits

    langs, parts = [], []
    for lang, pair in reps.items():
        pair = max_over_layers(pair) if max_vector else pair
        got, hits = pivot_hits(pair, pivot, margin=margin, k=k)
        langs += got
        parts.append(hits)
    sizes = {lang: p[next(iter(p))].shape[2] for lang, p in zip(langs, parts)}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every language needs the same number of sentences, got {sizes}")
    return langs, {d: torch.cat([p[d] for p in parts], dim=1) for d in parts[0]}


def table1_runs(model, tokenizer, bitexts: Mapping[str, Mapping[str, list[str]]], pivot: str,
                groups: Mapping[str, Sequence[str]], *, layers_pooled=("max_vector",),
                select=None, layer: int | None = None, exclude_special_variants=(False,),
                margin: str = "cosine", k: int = 4, n_boot: int = 1000,
                **extract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 1 of one model: (summary, per_layer) for Embedding and NAS, every BOS variant
    and every layer pooling.

    Embedding = the output of block i (representation index i), NAS = the FFN neuron states
    of block i, both for the blocks 1..n, so the per-layer ``layer`` column is the block
    number for both. bitexts: :func:`xlnb.data.load_bitexts`; layer: the block (1..n) of
    ``single`` (None: the middle block); select: the selection sentences of
    ``best_layer``; extract goes to :func:`xlnb.layerwise.language_reps` (pooling,
    batch_size, max_length).
    """
    from xlnb.arch import n_blocks
    from xlnb.layerwise import bitext_reps

    blocks = list(range(1, n_blocks(model) + 1))
    if layer is not None and layer not in blocks:
        raise ValueError(f"layer {layer!r} is not a block number in 1..{blocks[-1]}")
    kinds = {"Embedding": dict(kind="hidden", layers=blocks), "NAS": dict(kind="nas")}
    summaries, per_layer = [], []
    for exclude in exclude_special_variants:
        for representation, how_extract in kinds.items():
            reps = bitext_reps(model, tokenizer, bitexts, exclude_special=exclude, lazy=True,
                               **how_extract, **extract)
            tags = dict(bos="excluded" if exclude else "kept", representation=representation)
            langs, hits = bitext_pivot_hits(reps, pivot, margin=margin, k=k)
            per_layer.append(layer_accuracy(langs, hits, groups, layers=blocks).assign(**tags))
            for how in layers_pooled:
                used = (bitext_pivot_hits(reps, pivot, max_vector=True, margin=margin, k=k)[1]
                        if how == "max_vector" else hits)
                summaries.append(retrieval_summary(
                    langs, used, groups, how, layer=None if layer is None else layer - 1,
                    select=select, layer_labels=blocks, n_boot=n_boot).assign(
                        layers_pooled=how, **tags))
    return pd.concat(summaries, ignore_index=True), pd.concat(per_layer, ignore_index=True)
