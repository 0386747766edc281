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
        squared distances (``inf`` in the padding).  They are sums of
        squared differences, taken in the features' precision (float32 or
        float64) and summed in float64.
    """
    k = check_int(k, "k", low=1)
    database_features = check_matrix(database_features, "database_features")
    query_features = check_matrix(query_features, "query_features",
                                  width=database_features.shape[1])
    # Differences in the features' own precision (at least float32), sums in float64.
    # (only the gathered rows are converted: the database is never copied whole)
    dtype = np.result_type(database_features.dtype, query_features.dtype, np.float32)
    query_features = query_features.astype(dtype, copy=False)
    try:
        balls = list(balls)
    except TypeError:
        raise TypeError("balls must be a list of Neighbours, one per query; got "
                        f"{type(balls).__name__}.") from None
    if len(balls) != len(query_features):
        raise ValueError(f"got {len(balls)} balls for {len(query_features)} queries; "
                         "pass one ball per query.")
    n, n_queries = len(database_features), len(balls)
    indices_of = [_ball_indices(ball, q) for q, ball in enumerate(balls)]
    sizes = np.array([len(idx) for idx in indices_of], np.intp)
    items = np.concatenate(indices_of + [np.zeros(0, np.intp)])
    owner = np.repeat(np.arange(n_queries), sizes)  # the query each item came from
    if len(items) and (items.min() < 0 or items.max() >= n):
        bad = owner[(items < 0) | (items >= n)][0]
        raise ValueError(f"ball {bad} holds indices outside [0, {n}); pass the "
                         "balls of this database.")
    # One ball at a time: its rows stay in cache and the query is broadcast,
    # not copied.  Differences, unlike the expanded form |a|^2 - 2ab + |b|^2,
    # cannot cancel.
    d = np.empty(len(items))
    starts = np.cumsum(sizes) - sizes
    for q in np.flatnonzero(sizes):
        rows = slice(starts[q], starts[q] + sizes[q])
        rows_of_ball = database_features[items[rows]].astype(dtype, copy=False)
        diff = rows_of_ball - query_features[q]
        d[rows] = np.einsum("ij,ij->i", diff, diff, dtype=np.float64)
    # Sorted by query, then distance, then index: each query's items stay
    # together, and its first k are the answer.
    order = np.lexsort((items, d, owner))
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    first = rank < k
    keep, slot = order[first], rank[first]
    indices = np.full((n_queries, k), -1, np.intp)
    distances = np.full((n_queries, k), np.inf)
    indices[owner[keep], slot] = items[keep]
    distances[owner[keep], slot] = d[keep]
    return Neighbours(indices, distances)


def _ball_indices(ball, q: int) -> np.ndarray:
    """Ball ``q``'s database indices as a 1-D intp array, or a clear TypeError."""
    if not hasattr(ball, "indices"):
        raise TypeError(f"balls[{q}] must be a Neighbours (with .indices), as "
                        "HammingTable.lookup_batch returns; got "
                        f"{type(ball).__name__}.")
    idx = np.asarray(ball.indices)
    if idx.ndim != 1 or not (idx.size == 0 or np.issubdtype(idx.dtype, np.integer)):
        raise TypeError(f"balls[{q}].indices must be a 1-D integer array of database "
                        f"indices; got {idx.dtype} of shape {idx.shape}.")
    return idx.astype(np.intp, copy=False)
