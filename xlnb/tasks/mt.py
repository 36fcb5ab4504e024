"""Machine translation (MidAlign §4.1, Table 1, App. B and D.2): train on ALMA's human-written
parallel data, test on WMT 23, score with BLEU / chrF (sacrebleu) and COMET-22.

Directions are the task's "languages": ``"de-en"``, ``"en-de"`` (one side must be English).

Splits and data
---------------
``train`` / ``dev``
    ALMA human-written data (Xu et al., 2024), {cs, de, is, ru, zh} <-> en (no ``dev`` for is).
    Local: ``{xx}en/train.{xx}-en.json`` (JSON lines) and ``{xx}en/valid.{xx}-en.json`` (one
    JSON array), each item ``{"translation": {"xx": ..., "en": ...}}``; both directions read
    the same ``xx-en`` files. Hub: ``haoranxu/ALMA-Human-Parallel``, config ``"xx-en"``, splits
    ``train`` / ``validation``, column ``translation``.
``test``
    WMT 23 general test sets. Local: ``generaltest2023.{src}-{tgt}.src.{src}`` and
    ``.ref.{tgt}`` (line-aligned). Hub: ``haoranxu/WMT23-Test``, config ``"src-tgt"``, split
    ``test``, column named after the config (``row["de-en"]["de"]``).

``path`` is the folder of that dataset (the ALMA folder for train/dev, the WMT 23 folder for
test); a folder holding ``alma/`` and ``wmt23/`` (like ``shared/data``) works for all three.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from xlnb.data import read_lines
from xlnb.data.files import read_json_lines
from xlnb.data.languages import LANGUAGES, get_language
from xlnb.tasks import register
from xlnb.tasks.base import Example
from xlnb.tasks.mt_metrics import (  # noqa: F401 - re-exported: the task's metrics
    COMET_MODEL,
    MTScores,
    bleu_tokenizer,
    comet_score,
    score_translations,
)

ALMA_HUB_ID = "haoranxu/ALMA-Human-Parallel"
WMT23_HUB_ID = "haoranxu/WMT23-Test"
SPLITS = ("train", "dev", "test")


def split_direction(direction: str) -> tuple[str, str]:
    """``"de-en"`` -> ``("de", "en")`` as ISO 639-1 codes; exactly one side is English."""
    parts = direction.split("-") if isinstance(direction, str) else []
    if len(parts) != 2:
        raise ValueError(f"MT direction must look like 'de-en' or 'en-de', got {direction!r}")
    src, tgt = (get_language(p).iso1 for p in parts)
    if (src == "en") == (tgt == "en"):
        raise ValueError(f"MT direction {direction!r} must have English on exactly one side")
    return src, tgt


def subsample(items: list, n: int | None, seed: int, origin: str) -> list[int]:
    """Indices of ``n`` items drawn without replacement with ``seed``, in file order."""
    if n is None:
        return list(range(len(items)))
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    if n > len(items):
        raise ValueError(f"n={n} but {origin} has only {len(items)} examples")
    return sorted(random.Random(seed).sample(range(len(items)), n))


def _dataset_dir(path: str | Path, name: str) -> Path:
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"data directory {root} does not exist")
    return root / name if (root / name).is_dir() else root


# -- readers ---------------------------------------------------------------------------------


def _alma_item(obj, xx: str, where: str) -> tuple[str, str]:
    pair = obj.get("translation") if isinstance(obj, dict) else None
    texts = [pair.get(k) if isinstance(pair, dict) else None for k in (xx, "en")]
    if not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError(f"{where}: expected {{\"translation\": {{\"{xx}\": <text>, \"en\": "
                         f"<text>}}}} with non-empty texts, got {str(obj)[:120]!r}")
    return texts[0], texts[1]


def read_alma(file: str | Path, xx: str) -> list[tuple[str, str]]:
    """``(xx text, English text)`` pairs of an ALMA file: JSON lines (``train.*``) or one JSON
    array (``valid.*``). A malformed line raises ``ValueError`` naming file and line."""
    file = Path(file)
    text = file.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{file}: line {err.lineno}: not valid JSON ({err.msg})") from None
        return [_alma_item(obj, xx, f"{file}: item {i + 1}") for i, obj in enumerate(items)]
    out = [_alma_item(obj, xx, f"{file}: line {lineno}") for lineno, obj in read_json_lines(file)]
    if not out:
        raise ValueError(f"{file}: no examples")
    return out


def _alma(xx: str, split: str, path) -> tuple[str, list[tuple[str, str]]]:
    if path is None:
        import datasets

        hub_split = {"train": "train", "dev": "validation"}[split]
        rows = datasets.load_dataset(ALMA_HUB_ID, f"{xx}-en", split=hub_split)
        origin = f"{ALMA_HUB_ID} config '{xx}-en' split {hub_split!r}"
        return origin, [_alma_item(r, xx, f"{origin} row {i}") for i, r in enumerate(rows)]
    name = {"train": "train", "dev": "valid"}[split]
    file = _dataset_dir(path, "alma") / f"{xx}en" / f"{name}.{xx}-en.json"
    if not file.is_file():
        raise FileNotFoundError(f"no ALMA {split} file for {xx}-en: {file} does not exist "
                                "(ALMA has train for cs de is ru zh, valid for cs de ru zh)")
    return str(file), read_alma(file, xx)


def _wmt23(src: str, tgt: str, path) -> tuple[str, list[tuple[str, str]]]:
    """``(source, reference)`` pairs of WMT 23 ``src-tgt``."""
    config = f"{src}-{tgt}"
    if path is None:
        import datasets

        rows = datasets.load_dataset(WMT23_HUB_ID, config, split="test")
        origin = f"{WMT23_HUB_ID} config {config!r}"
        return origin, [(r[config][src], r[config][tgt]) for r in rows]
    root = _dataset_dir(path, "wmt23")
    files = [root / f"generaltest2023.{config}.src.{src}", root / f"generaltest2023.{config}.ref.{tgt}"]
    for file in files:
        if not file.is_file():
            have = sorted({f.name.split(".")[1] for f in root.glob("generaltest2023.*")})
            raise FileNotFoundError(f"no WMT23 file for {config}: {file} does not exist "
                                    f"(directions here: {', '.join(have) or 'none'})")
    sources, refs = read_lines(files[0]), read_lines(files[1])
    if len(sources) != len(refs):
        raise ValueError(f"{files[0]} has {len(sources)} lines but {files[1]} has {len(refs)}")
    return str(files[0]), list(zip(sources, refs))


# -- output parsing --------------------------------------------------------------------------

_NAMES = sorted({lang.name for lang in LANGUAGES} | {"Translation", "Assistant", "Output"},
                key=len, reverse=True)
_ECHO = re.compile(r"^\s*(?:" + "|".join(map(re.escape, _NAMES)) + r")\s*(?:\([^)]*\))?\s*:\s*",
                   re.IGNORECASE)


def parse_translation(output: str) -> str:
    """The translation in a generation: the first non-empty line, without a leading echo of a
    label (``"German: ..."``, ``"Translation: ..."``), stripped. Labels are the registry's
    language names only, so a sentence that starts with ``"Hinweis:"`` is kept whole."""
    for line in output.splitlines():
        line = _ECHO.sub("", line, count=1).strip()
        if line:
            return line
    return ""


# -- the task --------------------------------------------------------------------------------


@register("mt")
class MT:
    """MidAlign's MT task: ALMA train/dev, WMT 23 test, App. D.2 prompt, BLEU/chrF/COMET.

    ``comet_model=None`` turns COMET off (it needs a 2.3 GB model; slow on a CPU).
    ``max_new_tokens``: 512 as the reference code (WMT 23 de<->en segments are paragraphs);
    a sentence-level demo can pass less."""

    name = "mt"
    hub_id = ALMA_HUB_ID
    max_new_tokens = 512

    def __init__(self, comet_model: str | None = COMET_MODEL, comet_batch_size: int = 8,
                 max_new_tokens: int = 512):
        self.comet_model = comet_model
        self.comet_batch_size = comet_batch_size
        self.max_new_tokens = max_new_tokens

    def load(self, language: str, split: str, *, n: int | None = None,
             path: str | Path | None = None, seed: int = 0) -> list[Example]:
        """Examples of direction ``language`` (``"de-en"``); ``n`` drawn with ``seed``."""
        src, tgt = split_direction(language)
        xx = tgt if src == "en" else src
        if split not in SPLITS:
            raise ValueError(f"MT split must be one of {SPLITS}, got {split!r}")
        if split == "test":
            origin, pairs = _wmt23(src, tgt, path)
            dataset = "wmt23"
        else:  # ALMA stores (xx, en); turn into (source, target)
            origin, pairs = _alma(xx, split, path)
            pairs = pairs if src == xx else [(en, x) for x, en in pairs]
            dataset = "alma"
        return [Example(id=f"{dataset}-{src}-{tgt}-{split}-{i}", language=xx,
                        source=pairs[i][0], target=pairs[i][1],
                        meta={"src": src, "tgt": tgt, "dataset": dataset, "index": i})
                for i in subsample(pairs, n, seed, origin)]

    def messages(self, example: Example, *, zero_shot: bool = False) -> list[dict]:
        """App. D.2: system "Translate the following sentences from English to German.",
        user = the source sentence. The same prompt serves zero-shot and fine-tuned models."""
        src, tgt = (get_language(example.meta[k]).name for k in ("src", "tgt"))
        system = f"Translate the following sentences from {src} to {tgt}."
        return [{"role": "system", "content": system},
                {"role": "user", "content": example.source}]

    def parse(self, output: str) -> str:
        return parse_translation(output)

    def score(self, outputs: list[str], examples: list[Example]) -> dict[str, float]:
        """``{"bleu", "chrf"[, "comet"]}`` of the parsed ``outputs`` (one direction)."""
        return self.score_report(outputs, examples).as_dict()

    def score_report(self, outputs: list[str], examples: list[Example]) -> MTScores:
        """:class:`MTScores` with the tokeniser used and notes on fallbacks / skipped COMET."""
        if len(outputs) != len(examples):
            raise ValueError(f"{len(outputs)} outputs for {len(examples)} examples")
        targets = {ex.meta["tgt"] for ex in examples}
        if len(targets) != 1:
            raise ValueError(f"score one direction at a time; target languages: {targets}")
        return score_translations([self.parse(o) for o in outputs],
                                  [ex.target for ex in examples], targets.pop(),
                                  sources=[ex.source for ex in examples],
                                  comet_model=self.comet_model,
                                  batch_size=self.comet_batch_size)
