"""Token-level cosine deviation of CL-ICP (App. B.1).

For one translated sentence pair at layer L, with token representations
``H_s = [h_s1 .. h_s,ns]`` (language s), ``H_t`` (its translation in language t) and
``H_rand`` (a randomly chosen, unrelated sentence in language s):

    cos.dev^L = 1/n_s * sum_i [ cos(h_si, H_rand; top-10) - cos(h_si, H_t; top-10) ]
    cos.dev   = E_pairs[ 1/|layers| * sum_L cos.dev^L ]

where ``cos(h, H; top-10)`` is the mean of the 10 largest cosines between token ``h`` and
the tokens of ``H``. The printed formula lost which term is the random sentence; the
ordering above follows the text: the deviation is "between En-En and En-Zh" similarities
and "smaller cosine deviations indicate better alignment", i.e. a well-aligned model brings
translated tokens at least as close as same-language unrelated tokens. The value is signed
(negative when translations are closer than the random sentence).

Choices the paper leaves open are parameters: ``top`` (10 in the paper) and ``short``, what
to do when a sentence has fewer than ``top`` tokens (the paper only says it selects
language pairs with comparable token numbers).
"""

from __future__ import annotations

import numpy as np

from xlnb.metrics._checks import as_float_array, check_choice, check_int
from xlnb.metrics.mexa import cosine_matrix

__all__ = ["top_cosine", "cosine_deviation", "corpus_cosine_deviation"]


def top_cosine(h, H, *, top: int = 10, short: str = "clip") -> np.ndarray:
    """``cos(h_i, H; top-k)`` for every token: h: [n, d], H: [m, d] -> float64 [n].

    short: ``"clip"`` averages over all ``m`` tokens when ``m < top``; ``"raise"`` raises.
    """
    top = check_int(top, "top", minimum=1)
    check_choice(short, "short", ("clip", "raise"))
    sims = cosine_matrix(h, H)
    m = sims.shape[1]
    if m < top and short == "raise":
        raise ValueError(f"sentence has {m} tokens, fewer than top={top} (short='raise')")
    kk = min(top, m)
    # partition puts the kk largest values of each row in the last kk columns.
    best = np.partition(sims, m - kk, axis=1)[:, m - kk:]
    return best.mean(axis=1)


def cosine_deviation(H_s, H_t, H_rand, *, top: int = 10, short: str = "clip") -> float:
    """Cosine deviation of one sentence pair, averaged over layers (CL-ICP App. B.1).

    H_s: [n_s, d] or [L, n_s, d] tokens of the source sentence (language s);
    H_t: [n_t, d] or [L, n_t, d] tokens of its translation (language t);
    H_rand: [n_r, d] or [L, n_r, d] tokens of an unrelated sentence in language s.
    All three must have the same number of dimensions, and the same L and d. Returns
    ``mean_L mean_i [top_cos(h_si, H_rand) - top_cos(h_si, H_t)]``; smaller = better aligned.
    """
    s, t, r = (as_float_array(x, name, ndim=(2, 3))
               for x, name in ((H_s, "H_s"), (H_t, "H_t"), (H_rand, "H_rand")))
    if not (s.ndim == t.ndim == r.ndim):
        raise ValueError(
            "H_s, H_t and H_rand must all be [n, d] or all be [L, n, d], got shapes "
            f"{s.shape}, {t.shape}, {r.shape}"
        )
    if s.ndim == 2:
        s, t, r = s[None], t[None], r[None]
    if not (s.shape[0] == t.shape[0] == r.shape[0]):
        raise ValueError(f"layer counts differ: H_s {s.shape[0]}, H_t {t.shape[0]}, "
                         f"H_rand {r.shape[0]}")
    if not (s.shape[2] == t.shape[2] == r.shape[2]):
        raise ValueError(f"widths d differ: H_s {s.shape[2]}, H_t {t.shape[2]}, "
                         f"H_rand {r.shape[2]}")
    per_layer = [
        np.mean(top_cosine(s[i], r[i], top=top, short=short)
                - top_cosine(s[i], t[i], top=top, short=short))
        for i in range(s.shape[0])
    ]
    return float(np.mean(per_layer))


def corpus_cosine_deviation(triples, *, top: int = 10, short: str = "clip") -> float:
    """The expectation over sentence pairs: mean of :func:`cosine_deviation` over
    ``triples``, an iterable of ``(H_s, H_t, H_rand)`` as accepted by that function."""
    values = [cosine_deviation(s, t, r, top=top, short=short) for s, t, r in triples]
    if not values:
        raise ValueError("triples is empty; need at least one (H_s, H_t, H_rand)")
    return float(np.mean(values))
