"""MT metrics of MidAlign Table 2: corpus BLEU and chrF (sacrebleu) with each target
language's tokeniser, and COMET-22 when ``unbabel-comet`` and its model are present."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

from xlnb.data.languages import get_language

COMET_MODEL = "Unbabel/wmt22-comet-da"
# sacrebleu tokenisers by target language (its own defaults for WMT); everything else: 13a.
BLEU_TOKENIZERS = {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}
BLEU_FALLBACK = "char"  # when the MeCab packages (`pip install "sacrebleu[ja]"`) are missing


def bleu_tokenizer(tgt: str) -> tuple[str, str | None]:
    """sacrebleu tokeniser for target language ``tgt`` and a note when it had to fall back:
    ``ja-mecab`` (ja), ``ko-mecab`` (ko), ``zh`` (zh), else ``13a``. Without MeCab the
    Japanese / Korean choice falls back to ``char`` (character level; not comparable with
    ``ja-mecab`` numbers). MidAlign's reference code scores every direction with 13a."""
    from sacrebleu.metrics import BLEU

    name = BLEU_TOKENIZERS.get(get_language(tgt).iso1, "13a")
    try:
        BLEU(tokenize=name)
    except (ImportError, RuntimeError):  # sacrebleu raises RuntimeError when MeCab is missing
        return BLEU_FALLBACK, (f"BLEU tokeniser {name!r} needs MeCab (pip install "
                               f"\"sacrebleu[ja]\"): fell back to {BLEU_FALLBACK!r}")
    return name, None


@functools.lru_cache(maxsize=1)
def _comet_model(name: str):
    from comet import download_model, load_from_checkpoint

    return load_from_checkpoint(download_model(name))


def comet_score(sources: list[str], hypotheses: list[str], references: list[str], *,
                model: str = COMET_MODEL, batch_size: int = 8) -> tuple[float | None, str | None]:
    """COMET-22 system score x 100 (Rei et al., 2022; MidAlign Table 2) and ``None``, or
    ``(None, reason)`` when ``unbabel-comet`` is not installed or ``model`` does not load."""
    try:
        import comet  # noqa: F401
    except ImportError:
        return None, "COMET skipped: unbabel-comet is not installed (pip install 'xlnb[comet]')"
    try:
        scorer = _comet_model(model)
    except Exception as err:  # noqa: BLE001 - offline hub, missing checkpoint, ...
        return None, f"COMET skipped: model {model!r} did not load ({type(err).__name__}: {err})"
    import torch

    data = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(sources, hypotheses, references)]
    out = scorer.predict(data, batch_size=batch_size, gpus=int(torch.cuda.is_available()),
                         progress_bar=False)
    return 100.0 * float(out.system_score), None


@dataclass(frozen=True)
class MTScores:
    """Corpus scores on sacrebleu's 0-100 scale; ``comet`` is ``None`` when skipped, and
    ``notes`` say why and which BLEU tokeniser fell back."""

    bleu: float
    chrf: float
    comet: float | None
    tokenize: str
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, float]:
        out = {"bleu": self.bleu, "chrf": self.chrf}
        if self.comet is not None:
            out["comet"] = self.comet
        return out


def score_translations(hypotheses: list[str], references: list[str], tgt: str, *,
                       sources: list[str] | None = None, comet_model: str | None = COMET_MODEL,
                       batch_size: int = 8) -> MTScores:
    """Corpus BLEU and chrF (sacrebleu defaults: 4-gram BLEU with exp smoothing, chrF2) with
    the tokeniser of :func:`bleu_tokenizer`, and COMET-22 when ``sources`` are given, the
    package is installed and ``comet_model`` (``None``: skip) loads. Notes are also warned."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references) or not references:
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    tokenize, note = bleu_tokenizer(tgt)
    notes = [note] if note else []
    bleu = BLEU(tokenize=tokenize).corpus_score(hypotheses, [references]).score
    chrf = CHRF().corpus_score(hypotheses, [references]).score
    comet = None
    if sources is not None and comet_model is not None:
        comet, reason = comet_score(sources, hypotheses, references, model=comet_model,
                                    batch_size=batch_size)
        notes += [reason] if reason else []
    for text in notes:
        warnings.warn(f"{tgt}: {text}", stacklevel=2)
    return MTScores(bleu, chrf, comet, tokenize, tuple(notes))
