"""Alignment-only training and retrieval before / after it (MidAlign §6.2, Table 5).

Table 5 trains the alignment loss alone (no task data, "otherwise the same setup") on
several languages or one, and on one language pair (de-en) from three domains: FLORES
(the oracle: the retrieval set's own domain), Tatoeba ("different") and IWSLT 2017 ("very
distant"), then measures retrieval (§4.2). The paper reports one aggregate per setting; we
report, per language, retrieval of each language to English at the aligned layer before and
after training, with bootstrap intervals over sentences and the spread over seeds, because
a 270M-parameter model's aggregate hides whether the aligned languages moved at all.

FLORES lines that measure retrieval never train the oracle (:func:`held_out_lines`); the
paper's oracle overlaps its retrieval data (§6.2), we choose not to.

A *setting* is a name, an alignment data source and its languages
(:mod:`xlnb.midalign.alignment_settings`, re-exported here); hits are a long table, one row
per setting, seed, system (``before`` / ``after``), language and sentence
(:func:`hits_frame`), summarised by :func:`before_after` and :func:`aggregate_frame`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from xlnb.metrics.stats import bootstrap_item_means
from xlnb.midalign.alignment_settings import (  # noqa: F401 - Table 5's API, re-exported
    PARTS, Setting, parse_settings, setting_config, settings_table)
from xlnb.tasks.pairs import split_flores_lines


def held_out_lines(n_lines: int, n_eval: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """``(train, eval)`` sorted disjoint FLORES line indices: ``n_eval`` random lines that
    measure retrieval and every other line, which alone may train the FLORES oracle."""
    if not 2 <= n_eval <= n_lines:
        raise ValueError(f"n_eval must be in [2, n_lines={n_lines}], got {n_eval}")
    return split_flores_lines(n_lines, n_lines - n_eval, seed=seed)


def select_lines(texts: Mapping[str, Sequence[str]], lines: Sequence[int]) -> dict:
    """The given line indices of line-aligned ``texts`` (language -> sentences)."""
    out = {}
    for lang, sents in texts.items():
        bad = [i for i in lines if not 0 <= i < len(sents)]
        if bad:
            raise ValueError(f"line {bad[0]} is outside {lang}'s {len(sents)} lines")
        out[lang] = [sents[i] for i in lines]
    return out


def setting_pairs(setting: Setting, *, n: int | None, exclude: Sequence[int] = (),
                  data_root=None, seed: int = 0):
    """The uniform mix of alignment pairs of a setting (:func:`xlnb.midalign.systems.
    alignment_pairs`); FLORES pairs leave out the ``exclude`` lines (the retrieval set)."""
    from xlnb.midalign.systems import alignment_pairs

    return alignment_pairs(setting.source, list(setting.languages), n=n, data_root=data_root,
                           seed=seed, exclude=exclude if setting.source == "flores200" else None)


def to_pivot_hits(reps: Mapping, layer: int, pivot: str = "en", *, margin: str = "ratio",
                  k: int = 4) -> dict[str, np.ndarray]:
    """language -> bool ``[N]``: whether sentence n of the language retrieves its English
    translation at representation index ``layer`` (xx -> en, xSIM with ``margin``).
    reps: language -> ``[L, N, d]`` with every index 0..L-1 (:func:`xlnb.layerwise.
    language_reps`)."""
    from xlnb.metrics.retrieval import pivot_hits

    sizes = {lang: r.shape[0] for lang, r in reps.items()}
    if not all(0 <= layer < s for s in sizes.values()):
        raise ValueError(f"layer {layer} is outside the representations' layers {sizes}")
    one = {lang: r[layer:layer + 1] for lang, r in reps.items()}
    langs, hits = pivot_hits(one, pivot, margin=margin, k=k)
    return {lang: hits["xx_to_pivot"][0, g].numpy() for g, lang in enumerate(langs)}


def hits_frame(hits: Mapping[str, np.ndarray], **columns) -> pd.DataFrame:
    """Long table of per-sentence hits: columns ``language, sentence, hit`` plus the given
    constant ``columns`` (e.g. ``setting``, ``seed``, ``system``)."""
    rows = [pd.DataFrame({"language": lang, "sentence": np.arange(len(h)),
                          "hit": np.asarray(h, dtype=float)}) for lang, h in hits.items()]
    return pd.concat(rows, ignore_index=True).assign(**columns)


def before_after(hits: pd.DataFrame, settings: Sequence[Setting], *, layer: int,
                 n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Table 5 per language: one row per setting and language.

    hits: :func:`hits_frame` rows with ``setting``, ``seed``, ``system`` (``before`` has
    one seed, the untrained model's; ``after`` one block per training seed), ``language``,
    ``sentence``, ``hit``. Columns: ``before`` and ``after`` (accuracy; ``after`` is the
    mean over seeds), their percentile-bootstrap intervals over sentences (``*_low``,
    ``*_high``; ``after``'s resamples the seed-averaged per-sentence hits), ``delta`` =
    after - before with a paired bootstrap interval (the same sentences resampled for
    both), the seeds' ``after_seed_min`` / ``after_seed_max`` / ``after_seed_sd`` (ddof=1,
    NaN with one seed), ``n_seeds``, ``n_sentences``, ``aligned`` (the language trained
    in the setting) and ``clear_gain``: even the worst seed's accuracy is above the upper
    end of ``before``'s interval."""
    rows = []
    before_all = hits[hits.system == "before"]
    for setting in settings:
        after_all = hits[(hits.system == "after") & (hits.setting == setting.name)]
        if after_all.empty:
            raise ValueError(f"no 'after' hits for setting {setting.name!r}")
        for lang in after_all.language.unique():
            before = _by_sentence(before_all[before_all.language == lang], lang, "before")
            after = _by_sentence(after_all[after_all.language == lang], lang, setting.name)
            if before.shape[1] != 1 or after.shape[0] != before.shape[0]:
                raise ValueError(f"{lang}: before needs one seed and the same sentences as "
                                 f"after, got {before.shape[1]} seeds / {before.shape[0]} vs "
                                 f"{after.shape[0]} sentences")
            b, a = before[:, 0], after.mean(axis=1)
            est, low, high = bootstrap_item_means(np.stack([b, a, a - b]), n_boot=n_boot,
                                                  alpha=alpha, seed=seed)
            per_seed = after.mean(axis=0)
            rows.append(dict(
                setting=setting.name, part=setting.part, source=setting.source,
                language=lang, aligned=lang in setting.languages, layer=layer,
                before=est[0], before_low=low[0], before_high=high[0],
                after=est[1], after_low=low[1], after_high=high[1],
                delta=est[2], delta_low=low[2], delta_high=high[2],
                after_seed_min=per_seed.min(), after_seed_max=per_seed.max(),
                after_seed_sd=per_seed.std(ddof=1) if len(per_seed) > 1 else np.nan,
                n_seeds=len(per_seed), n_sentences=len(b),
                clear_gain=bool(per_seed.min() > high[0])))
    return pd.DataFrame(rows)


def _by_sentence(part: pd.DataFrame, lang: str, what: str) -> np.ndarray:
    """``[N, seeds]`` hits of one language (sentences in order)."""
    if part.empty:
        raise ValueError(f"no hits for language {lang!r} ({what})")
    table = part.pivot_table(index="sentence", columns="seed", values="hit", aggfunc="first")
    if table.isna().any().any():
        raise ValueError(f"{lang} ({what}): the seeds do not cover the same sentences")
    return table.to_numpy(dtype=float)


def aggregate_frame(table: pd.DataFrame | None, **columns) -> pd.DataFrame:
    """MidAlign §4.2's retrieval aggregate of one model (all ordered pairs, even layers above
    0; :func:`xlnb.midalign.tables.retrieval_aggregate`) with the given constant columns;
    NaN when ``table`` is None (only the aligned layer was measured)."""
    from xlnb.midalign.tables import retrieval_aggregate

    value = (np.nan if table is None else
             retrieval_aggregate(table.assign(system="x"))["value"].iloc[0])
    return pd.DataFrame([dict(columns, value=float(value))])


def measure(model, tokenizer, texts: Mapping[str, list[str]], *, layer: int, pivot: str = "en",
            margin: str = "ratio", k: int = 4, all_layers: bool = True, **reps_kwargs):
    """``(hits, table)`` of one model: :func:`to_pivot_hits` at ``layer`` and, with
    ``all_layers``, the all-pairs retrieval table of every layer (columns ``layer, src,
    tgt, accuracy``) for §4.2's aggregate, from one extraction. Without it only ``layer``
    is extracted (the forward stops there: about half the cost at the middle layer) and
    ``table`` is None. reps_kwargs go to :func:`xlnb.reps.sentence_reps`."""
    from xlnb.layerwise import language_reps
    from xlnb.metrics import all_pairs_hits, hits_table

    if not all_layers:
        reps = language_reps(model, tokenizer, texts, layers=[layer], **reps_kwargs)
        return to_pivot_hits(reps, 0, pivot, margin=margin, k=k), None
    reps = language_reps(model, tokenizer, texts, **reps_kwargs)
    pairs, hits = all_pairs_hits(reps, margin=margin, k=k)
    return to_pivot_hits(reps, layer, pivot, margin=margin, k=k), hits_table(pairs, hits)


def run_alignment_only(model_name: str, config, settings: Sequence[Setting],
                       pairs: Mapping[str, Sequence], texts: Mapping[str, list[str]], *,
                       seeds: Sequence[int] | Mapping[str, Sequence[int]],
                       dev_pairs: Mapping[str, Sequence | None] | None = None,
                       load_kwargs: dict | None = None,
                       reps_kwargs: dict | None = None, data_key: dict | None = None,
                       all_layers: bool = True):
    """Table 5's loop: retrieval of the untrained model, then for every setting and seed an
    alignment-only adapter (``config`` with mode ``align``; trained once and reused from the
    adapter cache) and its retrieval on the same held-out ``texts``.

    pairs: setting name -> alignment pairs; seeds: for every setting, or setting name ->
    seeds (e.g. several seeds for the multi-language setting only); dev_pairs: setting name
    -> pairs of a development alignment loss (early stopping) or None; all_layers: see
    :func:`measure` (False: no aggregate, half the extraction). Returns ``(hits,
    aggregate, layer)``: the :func:`hits_frame` of every model, §4.2's aggregate per model (columns ``setting, seed,
    system, value``) and the representation index of the aligned layer."""
    from xlnb.hooks import resolve_layer
    from xlnb.midalign.systems import system_adapter, system_model

    if config.mode != "align":
        raise ValueError(f"Table 5 trains the alignment loss only: config.mode must be "
                         f"'align', got {config.mode!r}")
    missing = [s.name for s in settings if s.name not in pairs]
    if missing:
        raise ValueError(f"no alignment pairs for settings {missing}")
    load_kwargs, reps_kwargs = dict(load_kwargs or {}), dict(reps_kwargs or {})
    model, tok = system_model(model_name, None, **load_kwargs)
    layer = resolve_layer(model, config.layer)
    got, table = measure(model, tok, texts, layer=layer, all_layers=all_layers,
                         **reps_kwargs)
    hits = [hits_frame(got, setting="none", seed=0, system="before")]
    aggregate = [aggregate_frame(table, setting="none", seed=0, system="before")]
    del model
    for setting in settings:
        key = dict(data_key or {}, pairs=setting.source, pair_languages=list(setting.languages))
        for seed in (seeds[setting.name] if isinstance(seeds, Mapping) else seeds):
            adapter = system_adapter(model_name, setting_config(config, setting, seed),
                                     task_name=None, pairs=pairs[setting.name],
                                     dev_pairs=(dev_pairs or {}).get(setting.name), data_key=key,
                                     load_kwargs=load_kwargs)
            model, tok = system_model(model_name, adapter, **load_kwargs)
            got, table = measure(model, tok, texts, layer=layer, all_layers=all_layers,
                                 **reps_kwargs)
            hits.append(hits_frame(got, setting=setting.name, seed=seed, system="after"))
            aggregate.append(aggregate_frame(table, setting=setting.name, seed=seed,
                                             system="after"))
            del model
    return pd.concat(hits, ignore_index=True), pd.concat(aggregate, ignore_index=True), layer
