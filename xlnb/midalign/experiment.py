"""One MidAlign experiment: for every task, system and seed, train (or reuse from the adapter
cache), generate on the test sets and measure retrieval — the loop that the Table 2, Table 3 /
Fig. 4 and ablation notebooks share."""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import pandas as pd

from xlnb.midalign import systems as S
from xlnb.train import TrainConfig


def task_setup(task_name: str, *, train_languages: Sequence[str], test_languages: Sequence[str],
               align_languages: Sequence[str] = (), align_source: str = "tatoeba",
               n_train: int | None, n_dev: int | None, n_test: int | None,
               n_pairs: int | None, n_dev_pairs: int | None = None, data_root=None,
               seed: int = 0, splits: tuple[str, str] = ("train", "dev")) -> dict:
    """Train, dev and test examples and alignment pairs of one task (MidAlign Table 1).

    Slot filling aligns ``align_languages`` with pairs from ``align_source``; MT aligns its
    own training pairs (the non-English sides of ``train_languages``, directions such as
    ``de-en``), as the paper does. Dev pairs are drawn with another seed; for MT there are
    none (the dev task loss drives early stopping). splits: the (training, development)
    split names, e.g. ``("dev", "test")`` where only those are offline (UNER English-EWT);
    the test sets are always ``test``."""
    if task_name == "mt":
        align_languages = sorted({d.replace("en", "").strip("-") for d in train_languages})
        align_source = "mt"
    examples = dict(n=None, data_root=data_root, seed=seed)

    def split(name: str, n):
        return S.task_examples(task_name, train_languages, name, **{**examples, "n": n})

    pairs = dev_pairs = None
    if align_languages:
        pairs = S.alignment_pairs(align_source, align_languages, n=n_pairs, data_root=data_root,
                                  seed=seed)
        if n_dev_pairs and task_name != "mt":
            dev_pairs = S.alignment_pairs(align_source, align_languages, n=n_dev_pairs,
                                          data_root=data_root, seed=seed + 99)
    return dict(task=task_name, train=split(splits[0], n_train), dev=split(splits[1], n_dev),
                tests=S.test_sets(task_name, test_languages, n=n_test, data_root=data_root,
                                  seed=seed),
                pairs=pairs, dev_pairs=dev_pairs, align_source=align_source,
                supervised=list(train_languages), aligned=list(align_languages))


def run_systems(model_name: str, configs: Mapping[str, TrainConfig | None],
                setups: Mapping[str, dict], *, seeds: Sequence[int], texts=None,
                load_kwargs: dict | None = None, batch_size: int = 16,
                zero_shot_prompt: bool = True, max_new_tokens: Mapping[str, int] | None = None,
                retrieval_kwargs: dict | None = None, stop_at_answer: bool = True):
    """Train / reuse, evaluate and probe every (task, system, seed).

    configs: :func:`xlnb.midalign.systems.system_configs`; setups: task -> :func:`task_setup`;
    texts: held-out parallel sentences for retrieval after training (None: skip). The base
    model runs once (it has no seed) and, for slot filling, with the long zero-shot prompt
    when ``zero_shot_prompt``, on the supervised languages only (the paper, §5, does not
    evaluate zero-shot slot filling beyond English: the base model rarely follows the format).
    stop_at_answer: see :func:`xlnb.midalign.systems.evaluate`. Returns
    ``(scores, outputs, retrieval)`` DataFrames with ``task``, ``system`` and ``seed``
    columns."""
    from xlnb.models import load_model

    load_kwargs = dict(load_kwargs or {})
    four_bit = load_kwargs.pop("load_in_4bit", False)
    _, tokenizer = load_model(model_name, load_in_4bit=four_bit, **load_kwargs)
    scores, outputs, retrieval = [], [], []
    for task_name, setup in setups.items():
        train = S.encode(task_name, tokenizer, setup["train"])
        dev = S.encode(task_name, tokenizer, setup["dev"])
        key = dict(languages=setup["supervised"], n_train=len(setup["train"]),
                   pairs=setup["align_source"], pair_languages=setup["aligned"])
        for system, config in configs.items():
            for seed in (seeds if config is not None else list(seeds)[:1]):
                run_config = None if config is None else dataclasses.replace(config, seed=seed)
                adapter = S.system_adapter(model_name, run_config, task_name=task_name,
                                           train_data=train, dev_data=dev, pairs=setup["pairs"],
                                           dev_pairs=setup["dev_pairs"], data_key=key,
                                           load_kwargs=load_kwargs)
                model, tok = S.system_model(model_name, adapter, load_in_4bit=four_bit,
                                            **load_kwargs)
                zero = config is None and zero_shot_prompt and task_name == "slot_filling"
                tests = setup["tests"]
                if zero:  # as the paper (§5): zero-shot slot filling on the supervised languages only
                    tests = {k: v for k, v in tests.items() if k in setup["supervised"]}
                got, out = S.evaluate(model, tok, task_name, tests, system=system,
                                      batch_size=batch_size, zero_shot=zero,
                                      max_new_tokens=(max_new_tokens or {}).get(task_name),
                                      stop_at_answer=stop_at_answer)
                scores.append(got.assign(seed=seed))
                outputs.append(out.assign(seed=seed))
                if texts is not None:
                    retrieval.append(S.retrieval(model, tok, texts, system=system,
                                                 batch_size=batch_size,
                                                 **(retrieval_kwargs or {}))
                                     .assign(task=task_name, seed=seed))
                del model
    frames = [pd.concat(x, ignore_index=True) if x else pd.DataFrame()
              for x in (scores, outputs, retrieval)]
    return tuple(frames)
