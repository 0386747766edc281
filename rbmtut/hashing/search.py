"""Exhaustive and addressed Hamming search over packed codes.

:func:`hamming_distance_blocks` is the whole idea: XOR a block of queries
with every database code, popcount, and reduce the block's distances; the
search functions differ only in the reduction.  A ranking orders the
database by Hamming distance, ties broken by database index (lower first),
as a stable sort of the distances does.  :class:`HammingTable` instead looks
up every address within a small radius (semantic addressing).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from math import comb
from typing import Callable, NamedTuple

import numpy as np

from .._validation import check_int
from .codes import PackedCodes, check_packed, distance_dtype, pack_bits, popcount

__all__ = ["hamming_distance_blocks", "hamming_distances", "Neighbours", "hamming_knn",
           "HammingTable"]


# Popcount backends, compared when this module was written (1,000 x 60,000
# codes of one 64-bit word, two cores): np.bitwise_count was the fastest,
# about 2x TensorFlow's bitwise_xor + PopulationCount and 4x a shift-and-mask
# fallback, so the search is NumPy.  The distances now run in cache-sized
# blocks; the performance appendix times the search as it is.

def _workers() -> int:
    """CPU cores this process may use (NumPy's XOR, popcount and sort
    release the GIL)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def hamming_distance_blocks(queries: PackedCodes, database: PackedCodes,
                            block_size: int | None,
                            reduce: Callable[[int, np.ndarray], object]) -> list:
    """``[reduce(start, distances (b, N)) for each block]`` of at most block_size
    queries, in order.

    Blocks bound the distances held at once, and each block XORs a few
    queries at a time so that temporary stays in cache; blocks run on a
    thread per core, so the search uses the whole machine, as BLAS does
    for float search.  Only the blocks are loops, never the items.
    """
    check_packed(database, "database")
    check_packed(queries, "queries", database.n_bits)
    if len(queries) == 0 or len(database) == 0:
        raise ValueError("need at least one query and one database code; "
                         f"got {len(queries)} and {len(database)}.")
    if block_size is None:
        block_size = max(1, 2**22 // max(len(database), 1))  # ~4 MB of uint8 distances
    check_int(block_size, "block_size", low=1)
    dtype, db, words = distance_dtype(database.n_bits), database.words.T, queries.words
    if database.n_bits <= 32:  # the high halves are 0: XOR half the bytes
        db, words = db.astype(np.uint32), words.astype(np.uint32)
    db = np.ascontiguousarray(db)  # (n_words, N)
    rows = max(1, 2**20 // (db.itemsize * db.shape[1]))  # XOR ~1 MB at a time, in cache

    def block(start: int):
        q = words[start:start + block_size]
        out = np.empty((len(q), db.shape[1]), dtype)
        xored = np.empty((min(rows, len(q)), db.shape[1]), db.dtype)
        for r in range(0, len(q), rows):
            x, o = xored[:len(q) - r], out[r:r + rows]
            for w in range(db.shape[0]):  # one word at a time
                np.bitwise_xor(q[r:r + rows, w, None], db[w], out=x)
                if w == 0:
                    o[...] = popcount(x)
                else:
                    o += popcount(x)
        return reduce(start, out)

    starts = range(0, len(queries), block_size)
    workers = min(_workers(), len(starts))
    if workers == 1:
        return [block(start) for start in starts]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(block, starts))


def hamming_distances(queries: PackedCodes, database: PackedCodes, *,
                      block_size: int | None = None) -> np.ndarray:
    """Hamming distances ``popcount(q XOR x)`` between every query and every
    database code.

    Args:
        queries: (n_queries codes); database: (N codes), of equal length.
        block_size: queries per vectorised block (default: about 4 MB of
            distances); the loop runs over blocks, never over items.

    Returns:
        (n_queries, N) uint8 (uint16 for codes longer than 255 bits).
    """
    blocks = hamming_distance_blocks(queries, database, block_size, lambda _, d: d)
    return np.concatenate(blocks)


class Neighbours(NamedTuple):
    """Search results: ``indices`` into the database and their ``distances``,
    nearest first."""

    indices: np.ndarray
    distances: np.ndarray


def hamming_knn(queries: PackedCodes, database: PackedCodes, n_neighbors: int, *,
                block_size: int | None = None) -> Neighbours:
    """The ``n_neighbors`` nearest database codes of each query by Hamming
    distance (exhaustive).

    Ties are broken by database index, lower first, exactly as by a stable
    sort of each query's distances, but only a few candidates per query are
    sorted (sample select, see ``_nearest``).

    Returns:
        :class:`Neighbours` of ``indices`` and ``distances``, both
        (n_queries, n_neighbors).
    """
    check_packed(database, "database")
    n_neighbors = check_int(n_neighbors, "n_neighbors", low=1, high=len(database))
    blocks = hamming_distance_blocks(queries, database, block_size,
                                     lambda _, d: _nearest(d, n_neighbors))
    indices, distances = zip(*blocks)
    return Neighbours(np.concatenate(indices), np.concatenate(distances))


def _sorted_nearest(d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The first k of each row of d by a stable sort: by (distance, index)."""
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


def _nearest(d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_sorted_nearest` of the distances d (b, N), without sorting all N.

    Exact, by sample select.  In each row, let (t, j) be the (distance, index)
    of the k-th nearest among every stride-th item, by (distance, index).
    Those k sampled items rank no later than (t, j), so no item ranking after
    (t, j) is among the k nearest: they are the first k, by (distance, index),
    of the candidates with distance < t, or distance t and index <= j
    (typically about 16k items, not N).
    """
    b, n = d.shape
    stride = min(16, n // (8 * k))  # a sample of at least 8k items
    if stride < 4:
        return _sorted_nearest(d, k)
    j = np.argsort(d[:, ::stride], axis=1, kind="stable")[:, k - 1:k] * stride
    t = np.take_along_axis(d, j, axis=1)
    keep = d < t
    for row, (t_row, j_row) in enumerate(zip(t[:, 0].tolist(), j[:, 0].tolist())):
        # Ties count up to index j, a prefix of the row: one short slice per
        # query of the block beats comparing every index (about 25% faster).
        keep[row, :j_row + 1] |= d[row, :j_row + 1] == t_row
    flat = np.flatnonzero(keep)  # ascending: by row, then by index
    if len(flat) > d.size // 8:  # (contrived ties only) sorting is cheaper
        return _sorted_nearest(d, k)
    rows, indices = np.divmod(flat, n)
    distances = d.reshape(-1)[flat]
    # A stable sort by (row, distance) keeps each tie in index order.
    order = np.argsort(rows * (int(t.max()) + 1) + distances, kind="stable")
    first = np.searchsorted(flat, np.arange(b) * n)  # each row's first candidate
    nearest = order[first[:, None] + np.arange(k)]
    return indices[nearest], distances[nearest]


class HammingTable:
    """A hash table from each distinct code of ``database`` to its items:
    semantic addresses.

    Args:
        database: the N packed codes.

    Attributes:
        database: the codes.
        buckets: ``{code words (tuple of ints): indices of the items with that code,
            ascending}``.
    """

    def __init__(self, database: PackedCodes):
        check_packed(database, "database")
        if len(database) == 0:
            raise ValueError("the database is empty.")
        self.database = database
        unique, inverse, counts = np.unique(database.words, axis=0, return_inverse=True,
                                            return_counts=True)
        # The items grouped by code.
        members = np.argsort(inverse.reshape(-1), kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)])
        self.buckets = {tuple(code): members[a:b]
                        for code, a, b in zip(unique.tolist(), starts[:-1], starts[1:])}
        # The same table as sorted arrays, for lookup_batch: code u owns
        # members[starts[u]:starts[u+1]].
        self._codes, self._members, self._starts = unique, members, starts
        self._flips: dict = {}  # radius -> (masks, their sizes)

    def n_probes(self, radius: int) -> int:
        """Addresses within distance ``radius``:
        ``sum_{i <= min(radius, n_bits)} C(n_bits, i)``."""
        radius = check_int(radius, "radius", low=0)
        n_bits = self.database.n_bits
        return sum(comb(n_bits, i) for i in range(min(radius, n_bits) + 1))

    def _flip_masks(self, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Packed masks (P, n_words) flipping every set of at most ``radius`` bits,
        and their sizes."""
        if radius not in self._flips:
            n_bits = self.database.n_bits
            flips, sizes = [], []
            for i in range(min(radius, n_bits) + 1):
                subsets = itertools.combinations(range(n_bits), i)
                combos = np.array(list(subsets), np.intp)
                mask = np.zeros((len(combos), n_bits), bool)
                mask[np.repeat(np.arange(len(combos)), i), combos.reshape(-1)] = True
                flips.append(mask)
                sizes.append(np.full(len(combos), i))
            self._flips[radius] = (pack_bits(np.concatenate(flips)).words,
                                   np.concatenate(sizes))
        return self._flips[radius]

    def lookup(self, query: PackedCodes, radius: int, *,
               max_probes: int = 10**6) -> Neighbours:
        """Every database item within Hamming distance ``radius`` of one query.

        Probes each of the ``n_probes(radius)`` addresses ``query XOR mask``
        (masks of at most ``radius`` set bits) in the table, so the cost
        depends on the code length and radius, not on N.

        Args:
            query: one code, e.g. ``queries[i]``.
            radius: the ball's radius, >= 0.
            max_probes: refuse (ValueError) rather than probe more addresses.

        Returns:
            :class:`Neighbours` (1-D arrays) ordered by (distance, index).
        """
        check_packed(query, "query", self.database.n_bits)
        if len(query) != 1:
            raise ValueError(
                f"lookup takes one query; got {len(query)}. Pass queries[i].")
        if self.n_probes(radius) > max_probes:
            raise ValueError(
                f"radius {radius} needs {self.n_probes(radius)} probes (> max_probes="
                f"{max_probes}); use a smaller radius or hamming_distances.")
        masks, sizes = self._flip_masks(radius)
        found, found_distances = [], []
        for address, size in zip((query.words[0] ^ masks).tolist(), sizes):
            bucket = self.buckets.get(tuple(address))
            if bucket is not None:
                found.append(bucket)
                found_distances.append(np.full(len(bucket), size))
        dtype = distance_dtype(self.database.n_bits)
        if not found:
            return Neighbours(np.zeros(0, np.intp), np.zeros(0, dtype))
        indices = np.concatenate(found)
        distances = np.concatenate(found_distances).astype(dtype)
        order = np.lexsort((indices, distances))
        return Neighbours(indices[order], distances[order])

    def lookup_batch(self, queries: PackedCodes, radius: int, *,
                     max_probes: int = 10**6) -> list[Neighbours]:
        """``[lookup(queries[i], radius) for each i]``, vectorised over the queries.

        For codes of at most 64 bits (one word) every probe address of every
        query is found at once by binary search in the sorted distinct codes,
        with no Python loop over probes; longer codes probe the hash table
        query by query.

        Args:
            queries: (Q codes) of the database's length.
            radius, max_probes: as for :meth:`lookup` (``max_probes`` per query).

        Returns:
            Q :class:`Neighbours`, each ordered by (distance, index).
        """
        check_packed(queries, "queries", self.database.n_bits)
        if self.database.words.shape[1] != 1:
            return [self.lookup(queries[i], radius, max_probes=max_probes)
                    for i in range(len(queries))]
        if self.n_probes(radius) > max_probes:
            raise ValueError(
                f"radius {radius} needs {self.n_probes(radius)} probes per query "
                f"(> max_probes={max_probes}); use a smaller radius or "
                "hamming_distances.")
        masks, sizes = self._flip_masks(radius)
        codes = self._codes[:, 0]
        addresses = queries.words[:, :1] ^ masks[:, 0][None, :]  # (Q, P)
        where = np.minimum(np.searchsorted(codes, addresses), len(codes) - 1)
        # The occupied addresses.
        query_of, probe_of = np.nonzero(codes[where] == addresses)
        bucket = where[query_of, probe_of]
        sizes_found = self._starts[bucket + 1] - self._starts[bucket]
        # Expand each occupied address into its items: item t of bucket u is
        # members[starts[u] + t].
        first = np.repeat(self._starts[bucket] - np.cumsum(sizes_found) + sizes_found,
                          sizes_found)
        items = self._members[first + np.arange(len(first))]
        query_of = np.repeat(query_of, sizes_found)
        dtype = distance_dtype(self.database.n_bits)
        distances = np.repeat(sizes[probe_of], sizes_found).astype(dtype)
        order = np.lexsort((items, distances, query_of))
        items, distances = items[order], distances[order]
        bounds = np.searchsorted(query_of[order], np.arange(len(queries) + 1))
        return [Neighbours(items[a:b], distances[a:b])
                for a, b in zip(bounds[:-1], bounds[1:])]


