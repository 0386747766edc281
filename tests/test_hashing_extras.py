"""Conditional radius precision, paired bootstrap intervals and two-stage search."""

import numpy as np
import pytest

from rbmtut import hashing


def random_codes(n, n_bits, seed):
    return np.random.default_rng(seed).random((n, n_bits)) < 0.5


def test_precision_given_retrieved_ignores_empty_balls():
    rng = np.random.default_rng(0)
    database, queries = random_codes(300, 12, 1), random_codes(40, 12, 2)
    db_labels, q_labels = rng.integers(0, 3, 300), rng.integers(0, 3, 40)
    scores = hashing.evaluate_retrieval(hashing.pack_bits(queries),
                                        hashing.pack_bits(database), q_labels, db_labels,
                                        cutoffs=(10,))
    d = (queries[:, None, :] != database[None, :, :]).sum(-1)
    for r in (0, 1, 2, 3):
        inside = d <= r
        nonempty = inside.any(1)
        per_query = [np.mean(db_labels[inside[i]] == q_labels[i])
                     for i in np.flatnonzero(nonempty)]
        got = scores.precision_given_retrieved[r]
        if nonempty.any():
            assert got == pytest.approx(np.mean(per_query), abs=1e-12)
            assert scores.precision[r] == pytest.approx(
                np.sum(per_query) / len(queries), abs=1e-12)
        else:
            assert np.isnan(got)


def test_paired_bootstrap_is_reproducible_and_covers_the_mean():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.5, 0.2, 200), rng.normal(0.45, 0.2, 200)
    one = hashing.paired_bootstrap(a, b, seed=3)
    assert one == hashing.paired_bootstrap(a, b, seed=3)
    assert one.low < one.difference < one.high
    assert one.difference == pytest.approx(np.mean(a - b))
    # The interval's width is close to the normal approximation's.
    se = np.std(a - b) / np.sqrt(len(a))
    assert (one.high - one.low) == pytest.approx(2 * 1.96 * se, rel=0.15)
    # Coverage: 300 data sets with a known mean difference of 0.1.
    covered = 0
    for i in range(300):
        x = np.random.default_rng(100 + i).normal(0.1, 1.0, 60)
        interval = hashing.paired_bootstrap(x, np.zeros(60), n_resamples=500, seed=i)
        covered += interval.low <= 0.1 <= interval.high
    # nominal 95%; the percentile bootstrap runs a little low at n = 60
    assert 0.88 <= covered / 300 <= 0.99
    with pytest.raises(ValueError, match="same length"):
        hashing.paired_bootstrap(a, b[:10])
    with pytest.raises(ValueError, match="confidence"):
        hashing.paired_bootstrap(a, b, confidence=1.5)


def test_rerank_balls_returns_the_nearest_items_of_each_ball():
    rng = np.random.default_rng(1)
    database_bits, query_bits = random_codes(500, 10, 3), random_codes(20, 10, 4)
    x_db, x_q = rng.normal(size=(500, 6)), rng.normal(size=(20, 6))
    table = hashing.HammingTable(hashing.pack_bits(database_bits))
    balls = table.lookup_batch(hashing.pack_bits(query_bits), 2)
    found = hashing.rerank_balls(balls, x_q, x_db, 5)
    assert found.indices.shape == (20, 5)
    for q, ball in enumerate(balls):
        d = ((x_db[ball.indices] - x_q[q]) ** 2).sum(1)
        want = ball.indices[np.lexsort((ball.indices, d))][:5]
        np.testing.assert_array_equal(found.indices[q, :len(want)], want)
        np.testing.assert_allclose(found.distances[q, :len(want)], np.sort(d)[:5],
                                   atol=1e-10)
        assert np.all(found.indices[q, len(want):] == -1)
        assert np.all(np.isinf(found.distances[q, len(want):]))
    empty = [hashing.Neighbours(np.zeros(0, np.intp), np.zeros(0))]
    got = hashing.rerank_balls(empty, x_q[:1], x_db, 3)
    assert np.all(got.indices == -1)
    with pytest.raises(ValueError, match="one ball per query"):
        hashing.rerank_balls(balls[:3], x_q, x_db, 5)
    outside = [hashing.Neighbours(np.array([0, 500]), np.zeros(2))]
    with pytest.raises(ValueError, match="ball 0 holds indices outside"):
        hashing.rerank_balls(outside, x_q[:1], x_db, 3)
    # float32 features give the float64 answer
    found32 = hashing.rerank_balls(balls, x_q.astype(np.float32),
                                   x_db.astype(np.float32), 5)
    np.testing.assert_allclose(found32.distances, found.distances, rtol=1e-5)


def test_rerank_balls_pads_short_balls_breaks_ties_by_index_and_refuses_bad_balls():
    x_db = np.array([[0.0, 0], [1, 0], [0, 1], [1, 1], [2, 0]], np.float32)
    x_q = np.array([[0.0, 0], [0, 0], [0, 0]], np.float32)
    balls = [hashing.Neighbours(np.zeros(0, np.intp), np.zeros(0)),   # empty
             hashing.Neighbours(np.array([4, 2]), np.zeros(2)),       # shorter than k
             hashing.Neighbours(np.array([3, 2, 1, 0, 4]), np.zeros(5))]
    found = hashing.rerank_balls(balls, x_q, x_db, 3)
    np.testing.assert_array_equal(found.indices, [[-1, -1, -1], [2, 4, -1], [0, 1, 2]])
    np.testing.assert_array_equal(found.distances,
                                  [[np.inf] * 3, [1, 4, np.inf], [0, 1, 1]])
    # items 1 and 2 tie at distance 1: the lower index comes first, in any ball order
    assert list(found.indices[2]) == [0, 1, 2]
    # bool features are compared as 0/1
    as_bool = hashing.rerank_balls(balls, x_q.astype(bool), np.minimum(x_db, 1) > 0, 3)
    np.testing.assert_array_equal(as_bool.indices[2], [0, 1, 2])
    bad = [(hashing.Neighbours(np.array([0.5, 1.0]), None), "1-D integer array"),
           (hashing.Neighbours(np.array([[0, 1]]), None), "1-D integer array"),
           ([0, 1], "must be a Neighbours")]
    for ball, message in bad:
        with pytest.raises(TypeError, match=message):
            hashing.rerank_balls([ball], x_q[:1], x_db, 2)
    with pytest.raises(TypeError, match="balls must be a list of Neighbours"):
        hashing.rerank_balls(None, x_q[:1], x_db, 2)
    with pytest.raises(TypeError, match="balls must be a list of Neighbours"):
        hashing.rerank_balls(3, x_q[:1], x_db, 2)

