"""t-SNE maps of parallel sentences, embeddings vs neuron states (NeuronXA Fig. 1).

The paper projects 100 Tatoeba zh-en pairs of Llama 3.1 8B into 2D with t-SNE, once from
sentence embeddings (Fig. 1a) and once from neuron states (Fig. 1b), and reads alignment off
the picture: translations land next to each other in (b) but not in (a). We add one number
per map that does not depend on reading the picture: the share of points whose nearest
neighbour in the 2D map is their own translation (:func:`pair_neighbour_rate`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlnb.style import font, styled

__all__ = ["tsne_pairs", "pair_neighbour_rate", "fig1_maps", "tsne_panels"]


def _as_matrix(x, name: str) -> np.ndarray:
    a = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)
    if a.ndim != 2 or not np.isfinite(a).all():
        raise ValueError(f"{name} must be a finite [N, d] matrix, got shape {a.shape}")
    return a


def tsne_pairs(src, tgt, *, langs=("en", "xx"), perplexity: float = 30.0,
               metric: str = "cosine", seed: int = 0) -> pd.DataFrame:
    """Joint 2D t-SNE (scikit-learn) of two line-aligned sets of sentence vectors.

    src, tgt: [N, d], row i of both the same sentence in two languages (N >= 5). Both sets
    are embedded together (2N points) with ``metric`` (cosine, as the alignment scores use)
    and PCA initialisation, so the map is reproducible for a given ``seed``. perplexity is
    capped at (2N - 1) / 3. Returns columns ``pair, lang, x, y`` (rows 0..N-1 = src).
    """
    from sklearn.manifold import TSNE

    a, b = _as_matrix(src, "src"), _as_matrix(tgt, "tgt")
    if a.shape != b.shape or a.shape[0] < 5:
        raise ValueError(f"src and tgt must share a shape [N >= 5, d], got {a.shape}, {b.shape}")
    if len(langs) != 2:
        raise ValueError(f"langs must name the two sets, got {langs!r}")
    n = a.shape[0]
    perplexity = float(min(perplexity, (2 * n - 1) / 3))
    xy = TSNE(n_components=2, perplexity=perplexity, metric=metric, init="pca",
              random_state=seed).fit_transform(np.vstack([a, b]))
    return pd.DataFrame({"pair": np.tile(np.arange(n), 2), "lang": np.repeat(list(langs), n),
                         "x": xy[:, 0], "y": xy[:, 1]})


def pair_neighbour_rate(points: pd.DataFrame) -> float:
    """Share of points whose nearest other point (Euclidean, in the map) is their translation.

    points: :func:`tsne_pairs` output (``pair, lang, x, y``; each pair once per language).
    1.0 when every sentence sits next to its translation; near 0 when the languages form
    separate clusters.
    """
    xy = points[["x", "y"]].to_numpy(dtype=np.float64)
    pair = points["pair"].to_numpy()
    if len(xy) < 3:
        raise ValueError(f"need at least 3 points, got {len(xy)}")
    dist = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1)
    np.fill_diagonal(dist, np.inf)
    nearest = dist.argmin(axis=1)
    return float(np.mean(pair[nearest] == pair))


def fig1_maps(model, tokenizer, texts: dict, *, layer: int | None = None,
              pooling: str = "weighted", kind: str = "nas", perplexity: float = 30.0,
              seed: int = 0, **extract_kwargs) -> tuple[dict, pd.DataFrame]:
    """The two maps of Fig. 1 at decoder block ``layer`` (1..n; default the middle one, n // 2).

    texts: two line-aligned languages ``{l1: [N], l2: [N]}``. Embeddings are the pooled
    output of block ``layer`` (representation index ``layer``); neuron states are the
    ``kind`` (nas / nav) states of the FFN inside that block, both pooled with ``pooling``
    (eq. 3 by default). Returns ``({title: points}, summary)``; summary has one row per
    representation with the block, the eq. 4 score in the original space and the 2D
    pair-neighbour rate.
    """
    from xlnb.arch import n_blocks
    from xlnb.metrics import mutual_nn_score
    from xlnb.reps import neuron_states, sentence_reps

    if len(texts) != 2:
        raise ValueError(f"texts must hold exactly two languages, got {list(texts)}")
    n = n_blocks(model)
    layer = n // 2 if layer is None else int(layer)
    if not 1 <= layer <= n:
        raise ValueError(f"layer must be a block number in 1..{n}, got {layer}")
    extract = {"sentence embedding": lambda s: sentence_reps(
                   model, tokenizer, s, pooling=pooling, layers=[layer], **extract_kwargs),
               f"neuron states ({kind.upper()})": lambda s: neuron_states(
                   model, tokenizer, s, kind=kind, pooling=pooling, layers=[layer],
                   **extract_kwargs)}
    langs = list(texts)
    maps, rows = {}, []
    for name, fn in extract.items():
        a, b = (fn(texts[lang])[0] for lang in langs)
        maps[name] = tsne_pairs(a, b, langs=langs, perplexity=perplexity, seed=seed)
        rows.append(dict(representation=name, layer=layer, pooling=pooling, n_pairs=len(a),
                         mutual_nn_score=mutual_nn_score(a, b),
                         pair_neighbour_rate_2d=pair_neighbour_rate(maps[name])))
    return maps, pd.DataFrame(rows)


@styled
def tsne_panels(maps: dict, *, link_pairs: bool = True, suptitle: str | None = None):
    """Side-by-side t-SNE panels, one per map, points coloured by language.

    maps: title -> :func:`tsne_pairs` output. link_pairs: a thin grey line joins each
    sentence to its translation (short lines = aligned). Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    if not maps:
        raise ValueError("maps is empty")
    fig, axes = plt.subplots(1, len(maps), figsize=(5.2 * len(maps), 5.0), squeeze=False)
    colours = ("tab:blue", "tab:orange")
    for ax, (title, pts) in zip(axes[0], maps.items()):
        langs = list(dict.fromkeys(pts["lang"]))
        if link_pairs:
            wide = pts.pivot(index="pair", columns="lang", values=["x", "y"])
            for (x0, x1), (y0, y1) in zip(wide["x"][langs].to_numpy(),
                                          wide["y"][langs].to_numpy()):
                ax.plot([x0, x1], [y0, y1], color="grey", lw=0.5, alpha=0.5, zorder=1)
        for lang, colour in zip(langs, colours):
            part = pts[pts.lang == lang]
            ax.scatter(part.x, part.y, s=18, color=colour, label=lang, zorder=2,
                       edgecolor="white", linewidth=0.3)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(loc="best", fontsize=font("body"))
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def fig1_headlines(summary: pd.DataFrame, *, data_label: str) -> list[dict]:
    """Headline rows of Fig. 1 (:func:`xlnb.outputs.save_headlines`): per model and
    representation the eq. 4 score and the 2D pair-neighbour rate. The paper gives no
    number for its figure, only the picture (aligned pairs for neuron states, two language
    clouds for embeddings), so ``paper`` says which should be higher."""
    rows = []
    for rec in summary.itertuples():
        neurons = rec.representation.startswith("neuron")
        for metric, label in (("mutual_nn_score", "eq. 4 score"),
                              ("pair_neighbour_rate_2d", "2D pair-neighbour rate")):
            rows.append(dict(quantity=f"Fig. 1 {label}, {rec.representation}, block {rec.layer}",
                             paper=("higher (picture only)" if neurons
                                    else "lower (picture only)"),
                             ours=round(float(getattr(rec, metric)), 3), model=rec.model,
                             data=data_label))
    return rows
