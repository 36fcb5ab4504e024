"""Alignment metrics: pure functions on tensors, one concept per module."""

from xlnb.metrics.retrieval import (
    all_pairs_hits,
    all_pairs_retrieval,
    hits_table,
    pivot_hits,
    pivot_retrieval,
    retrieval_accuracy,
)
from xlnb.metrics.anc import anc, neuron_correlations
from xlnb.metrics.chance import chance_probability
from xlnb.metrics.cka import linear_cka
from xlnb.metrics.cosine_deviation import corpus_cosine_deviation, cosine_deviation, top_cosine
from xlnb.metrics.mexa import (
    aggregate,
    cosine_matrix,
    layer_scores,
    mutual_nn_from_similarity,
    mutual_nn_hits_from_similarity,
    mutual_nn_score,
)
from xlnb.metrics.stats import bootstrap_ci, bootstrap_item_means, correlation
from xlnb.metrics.svcca import canonical_correlations, svcca

__all__ = ["retrieval_accuracy", "all_pairs_hits", "all_pairs_retrieval", "hits_table",
            "pivot_hits", "pivot_retrieval"]
__all__ += [
    "mutual_nn_score", "mutual_nn_from_similarity", "mutual_nn_hits_from_similarity", "cosine_matrix", "layer_scores", "aggregate",
    "chance_probability", "linear_cka", "svcca", "canonical_correlations", "anc",
    "neuron_correlations", "cosine_deviation", "corpus_cosine_deviation", "top_cosine",
    "bootstrap_ci", "bootstrap_item_means", "correlation",
]
