"""Two-stage search: a Hamming ball from the hash table, re-ranked on real features.

A small Hamming ball is cheap to fetch (:meth:`rbmtut.hashing.HammingTable.
lookup_batch`) and holds few items, so it can afford an exact comparison
that the whole database cannot: the ball's items are re-ranked by Euclidean
distance on the pixels (or on real-valued codes), and the nearest ``k`` are
returned.  Chapter 6 (``06_semantic_hashing``) times it against exhaustive
search.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_matrix
from .search import Neighbours

__all__ = ["rerank_balls"]


def rerank_balls(balls, query_features, database_features, k: int) -> Neighbours:
    """The ``k`` items of each query's ball nearest to it in feature space.

    Args:
        balls: one :class:`~rbmtut.hashing.Neighbours` per query (what
            ``HammingTable.lookup_batch`` returns), indices into the database.
        query_features: (n_queries, d) real features of the queries.
        database_features: (N, d) the database's features, same columns.
        k: items to return per query, >= 1.

    Returns:
        :class:`~rbmtut.hashing.Neighbours` with ``indices`` (n_queries, k)
        ordered by squared Euclidean distance (ties by index), padded with
        -1 where a ball holds fewer than ``k`` items, and ``distances`` the
        squared distances (``inf`` in the padding).  Distances are computed
        in float64 from the differences, whatever the features' dtype.
    """
    k = check_int(k, "k", low=1)
    database_features = np.asarray(
        check_matrix(database_features, "database_features"), np.float64)
    query_features = np.asarray(
        check_matrix(query_features, "query_features",
                     width=database_features.shape[1]), np.float64)
    balls = list(balls)
    if len(balls) != len(query_features):
        raise ValueError(f"got {len(balls)} balls for {len(query_features)} queries; "
                         "pass one ball per query.")
    n = len(database_features)
    indices = np.full((len(balls), k), -1, np.intp)
    distances = np.full((len(balls), k), np.inf)
    for q, ball in enumerate(balls):
        items = np.asarray(ball.indices)
        if not len(items):
            continue
        if items.min() < 0 or items.max() >= n:
            raise ValueError(f"ball {q} holds indices outside [0, {n}); pass the "
                             "balls of this database.")
        # A ball is small: the exact differences cost little and cannot cancel.
        d = np.sum((database_features[items] - query_features[q]) ** 2, axis=1)
        order = np.lexsort((items, d))[:k]
        indices[q, :len(order)], distances[q, :len(order)] = items[order], d[order]
    return Neighbours(indices, distances)
