"""Semantic hashing: packing, Hamming search, hash-table lookup, retrieval metrics, baselines."""

import itertools

import numpy as np
import pytest

from rbmtut import hashing as hs
from rbmtut.pca import pca

N_BITS = [1, 5, 16, 33, 64, 70, 130]


def random_bits(rng, n, n_bits, p=0.5):
    return rng.random((n, n_bits)) < p


def naive_distances(a, b):
    """Hamming distances bit by bit."""
    return np.array([[sum(int(x != y) for x, y in zip(u, v)) for v in b] for u in a])


def naive_ranking(d):
    """Database indices sorted by (distance, index)."""
    return sorted(range(len(d)), key=lambda j: (d[j], j))


def naive_ap(d, rel):
    order, hits, total = naive_ranking(d), 0, 0.0
    for rank, j in enumerate(order, start=1):
        if rel[j]:
            hits += 1
            total += hits / rank
    n_relevant = sum(bool(r) for r in rel)
    return total / n_relevant if n_relevant else 0.0


def naive_precision_at(d, rel, n):
    return sum(bool(rel[j]) for j in naive_ranking(d)[:n]) / n


def naive_radius_curves(d, rel, n_bits):
    """(precision, recall, retrieved) within each radius 0..n_bits."""
    precision, recall, retrieved = [], [], []
    n_relevant = sum(bool(r) for r in rel)
    for r in range(n_bits + 1):
        found = [j for j in range(len(d)) if d[j] <= r]
        good = sum(bool(rel[j]) for j in found)
        precision.append(good / len(found) if found else 0.0)
        recall.append(good / n_relevant if n_relevant else 0.0)
        retrieved.append(bool(found))
    return precision, recall, retrieved


# -- bits and packing ----------------------------------------------------------

def test_binarize_codes_thresholds_strictly():
    codes = np.array([[0.2, 0.5, 0.7], [-1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(hs.binarize_codes(codes), [[0, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(hs.binarize_codes(codes, 0.0), [[1, 1, 1], [0, 0, 1]])
    assert hs.binarize_codes(codes).dtype == bool


def test_pack_bits_layout_and_round_trip():
    bits = np.zeros((2, 70), bool)
    bits[0, 0] = bits[0, 65] = bits[1, 63] = True
    packed = hs.pack_bits(bits)
    assert packed.words.dtype == np.uint64 and packed.words.shape == (2, 2) and packed.n_bits == 70
    np.testing.assert_array_equal(packed.words, np.array([[1, 2], [2**63, 0]], np.uint64))
    rng = np.random.default_rng(0)
    for n_bits in N_BITS:
        bits = random_bits(rng, 9, n_bits)
        packed = hs.pack_bits(bits.astype(np.uint8) if n_bits % 2 else bits)  # 0/1 ints too
        np.testing.assert_array_equal(hs.unpack_bits(packed), bits)
        spare = 64 * packed.words.shape[1] - n_bits
        if spare:  # the last word's unused high bits are 0
            assert np.all(packed.words[:, -1] >> np.uint64(64 - spare) == 0)
        np.testing.assert_array_equal(hs.unpack_bits(packed[3]), bits[3:4])
        np.testing.assert_array_equal(hs.unpack_bits(packed[[4, 1]]), bits[[4, 1]])


def test_popcount_fallback_counts_every_bit():
    rng = np.random.default_rng(1)
    words = np.concatenate([np.array([0, 1, 2**63, 2**64 - 1], np.uint64),
                            rng.integers(0, 2**63, 200).astype(np.uint64) * np.uint64(2)
                            + rng.integers(0, 2, 200).astype(np.uint64)])
    expected = [bin(int(w)).count("1") for w in words]
    np.testing.assert_array_equal(hs.swar_popcount(words), expected)
    np.testing.assert_array_equal(hs.popcount(words), expected)


@pytest.mark.parametrize("n_bits", N_BITS)
@pytest.mark.parametrize("fallback", [False, True], ids=["numpy", "fallback"])
def test_hamming_distances_match_a_bit_by_bit_count(n_bits, fallback, monkeypatch):
    if fallback:
        monkeypatch.setattr(hs.search, "popcount", hs.swar_popcount)
    rng = np.random.default_rng(n_bits)
    a, b = random_bits(rng, 7, n_bits), random_bits(rng, 23, n_bits)
    expected = naive_distances(a, b)
    for block_size in (None, 1, 3):
        d = hs.hamming_distances(hs.pack_bits(a), hs.pack_bits(b), block_size=block_size)
        assert d.dtype == np.uint8 and d.shape == (7, 23)
        np.testing.assert_array_equal(d, expected)


def test_long_codes_get_wider_distances():
    a, b = np.zeros((1, 300), bool), np.ones((2, 300), bool)
    d = hs.hamming_distances(hs.pack_bits(a), hs.pack_bits(b))
    assert d.dtype == np.uint16 and d.tolist() == [[300, 300]]


# -- search --------------------------------------------------------------------

def test_hamming_knn_breaks_ties_by_database_index():
    rng = np.random.default_rng(2)
    a, b = random_bits(rng, 6, 4), random_bits(rng, 40, 4)  # 4 bits: many ties
    d = naive_distances(a, b)
    result = hs.hamming_knn(hs.pack_bits(a), hs.pack_bits(b), 7, block_size=4)
    assert result.indices.shape == result.distances.shape == (6, 7)
    for i in range(6):
        expected = naive_ranking(d[i])[:7]
        assert result.indices[i].tolist() == expected
        assert result.distances[i].tolist() == [d[i][j] for j in expected]
    full = hs.hamming_knn(hs.pack_bits(a), hs.pack_bits(b), 40)
    np.testing.assert_array_equal(full.indices, hs.rank_by_distance(d))


def stable_sort_knn(q_bits, db_bits, k):
    """The k nearest by distances counted on the bits, then a full stable sort."""
    d = (q_bits[:, None, :] != db_bits[None, :, :]).sum(axis=2).astype(np.uint8)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


def count_sorts(monkeypatch):
    """Count the blocks that hamming_knn ranks by sorting every distance."""
    calls, sort = [], hs.search._sorted_nearest
    monkeypatch.setattr(hs.search, "_sorted_nearest",
                        lambda d, k: calls.append(k) or sort(d, k))
    return calls


@pytest.mark.parametrize("n_bits", [8, 32, 64, 100])
def test_hamming_knn_equals_a_stable_sort_under_massive_ties(n_bits, monkeypatch):
    rng = np.random.default_rng(n_bits)
    n, few = 4000, np.where(np.arange(n_bits) < 6, 0.5, 0.05)  # few bits vary: ties
    distinct = random_bits(rng, 25, n_bits, few)
    db_bits = np.concatenate([distinct[rng.integers(0, 25, n // 2)],  # repeated codes
                              random_bits(rng, n - n // 2, n_bits, few)])[rng.permutation(n)]
    q_bits = np.concatenate([db_bits[rng.integers(0, n, 5)], random_bits(rng, 6, n_bits, few),
                             random_bits(rng, 3, n_bits)])
    queries, database = hs.pack_bits(q_bits), hs.pack_bits(db_bits)
    sorts = count_sorts(monkeypatch)
    for k in (1, 10, 50, n):
        expected = stable_sort_knn(q_bits, db_bits, k)
        for block_size in (None, 4):
            got = hs.hamming_knn(queries, database, k, block_size=block_size)
            for g, e in zip(got, expected):
                assert g.dtype == e.dtype and g.shape == e.shape == (14, k)
                np.testing.assert_array_equal(g, e)
        if k <= 10:  # exercised the sample select, not the full sort
            assert not sorts


def test_hamming_knn_sorts_when_the_sample_misleads(monkeypatch):
    # Every 16th item, the sample, is at distance 1 and all the others at 0: the
    # sample's bound admits almost every item, so the block is sorted instead.
    db_bits = np.zeros((1600, 8), bool)
    db_bits[::16, 0] = True
    q_bits = np.zeros((2, 8), bool)
    sorts = count_sorts(monkeypatch)
    got = hs.hamming_knn(hs.pack_bits(q_bits), hs.pack_bits(db_bits), 5)
    assert sorts == [5]
    assert got.indices.tolist() == [[1, 2, 3, 4, 5]] * 2 and got.distances.max() == 0
    for g, e in zip(got, stable_sort_knn(q_bits, db_bits, 5)):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("n_bits", [6, 10, 33])
def test_hamming_ball_lookup_returns_exactly_the_items_within_the_radius(n_bits):
    rng = np.random.default_rng(n_bits)
    distinct = random_bits(rng, 30, n_bits)
    database = distinct[rng.integers(0, 30, 200)]  # every code about 7 times
    # Queries near database codes (a few bits flipped), so small balls are not empty.
    queries = distinct[:8] ^ (rng.random((8, n_bits)) < 1.5 / n_bits)
    table = hs.HammingTable(hs.pack_bits(database))
    assert sum(len(v) for v in table.buckets.values()) == 200
    d = naive_distances(queries, database)
    packed = hs.pack_bits(queries)
    radii = [0, 1, 2, 3] + ([n_bits + 1] if n_bits <= 10 else [])  # 2**33 probes is too many
    for radius in radii:
        addresses = {tuple(np.nonzero(flip)[0]) for flip in itertools.product([0, 1], repeat=n_bits)
                     if sum(flip) <= radius} if n_bits <= 10 else None
        if addresses is not None:
            assert table.n_probes(radius) == len(addresses)
        for i in range(len(queries)):
            found = table.lookup(packed[i], radius)
            expected = [j for j in naive_ranking(d[i]) if d[i][j] <= radius]
            assert found.indices.tolist() == expected
            assert found.distances.tolist() == [d[i][j] for j in expected]
        batch = table.lookup_batch(packed, radius)
        assert len(batch) == len(queries)
        for i, found in enumerate(batch):
            single = table.lookup(packed[i], radius)
            np.testing.assert_array_equal(found.indices, single.indices)
            np.testing.assert_array_equal(found.distances, single.distances)
            assert found.distances.dtype == single.distances.dtype
    assert table.n_probes(3) == 1 + n_bits + n_bits * (n_bits - 1) // 2 \
        + n_bits * (n_bits - 1) * (n_bits - 2) // 6
    if n_bits <= 10:
        assert len(table.lookup(packed[0], n_bits + 1).indices) == 200  # the ball covers everything
    with pytest.raises(ValueError, match="max_probes"):  # refuses rather than enumerate 2**33
        table.lookup(packed[0], n_bits, max_probes=2**n_bits - 1)
    with pytest.raises(ValueError, match="max_probes"):
        table.lookup_batch(packed, n_bits, max_probes=2**n_bits - 1)


def test_batch_lookup_of_queries_far_from_every_code_finds_nothing():
    table = hs.HammingTable(hs.pack_bits(np.zeros((5, 12), bool)))
    far = hs.pack_bits(np.ones((3, 12), bool))
    for found in table.lookup_batch(far, 2):
        assert found.indices.size == 0 and found.distances.size == 0
    near = table.lookup_batch(hs.pack_bits(np.eye(12, dtype=bool)[:2]), 1)
    assert [n.indices.tolist() for n in near] == [[0, 1, 2, 3, 4]] * 2
    assert [n.distances.tolist() for n in near] == [[1] * 5] * 2
    with pytest.raises(ValueError, match="queries"):
        table.lookup_batch(hs.pack_bits(np.ones((3, 11), bool)), 1)


# -- retrieval metrics -----------------------------------------------------------

def test_metrics_on_a_hand_checked_ranking():
    d = np.array([[0, 1, 1, 2, 3]])
    rel = np.array([[1, 0, 1, 0, 1]], bool)
    # Ranking 0, 1, 2, 3, 4; relevant at ranks 1, 3, 5:
    # AP = (1/1 + 2/3 + 3/5) / 3 = (15 + 10 + 9) / 45 = 34/45.
    np.testing.assert_allclose(hs.average_precision(d, rel), [34 / 45], rtol=1e-15)
    for n, expected in [(1, 1.0), (2, 0.5), (3, 2 / 3), (5, 0.6)]:
        np.testing.assert_allclose(hs.precision_at(d, rel, n), [expected], rtol=1e-15)
    curves = hs.radius_curves(d, rel, 3)
    # Within r = 0: {0}; r = 1: {0, 1, 2}; r = 2: {0..3}; r = 3: all five.
    np.testing.assert_allclose(curves.precision[0], [1, 2 / 3, 2 / 4, 3 / 5])
    np.testing.assert_allclose(curves.recall[0], [1 / 3, 2 / 3, 2 / 3, 1])
    assert curves.retrieved.all()


def test_ties_are_broken_by_database_index():
    d = np.array([[2, 1, 1, 0]])
    rel = np.array([[1, 0, 1, 0]], bool)
    # Ranking 3, 1, 2, 0 (1 before 2 at distance 1); relevant at ranks 3 and 4:
    # AP = (1/3 + 2/4) / 2 = 5/12 (the other tie order would give 1/2).
    np.testing.assert_allclose(hs.average_precision(d, rel), [5 / 12], rtol=1e-15)
    np.testing.assert_allclose(hs.precision_at(d, rel, 2), [0.0])
    np.testing.assert_array_equal(hs.rank_by_distance(d), [[3, 1, 2, 0]])


def test_empty_balls_and_queries_without_relevant_items():
    d = np.array([[1, 2], [0, 1]])
    rel = np.array([[1, 0], [0, 0]], bool)
    curves = hs.radius_curves(d, rel, 2)
    np.testing.assert_array_equal(curves.retrieved, [[False, True, True], [True, True, True]])
    np.testing.assert_allclose(curves.precision, [[0, 1, 0.5], [0, 0, 0]])  # empty ball: 0
    np.testing.assert_allclose(curves.recall, [[0, 1, 1], [0, 0, 0]])
    np.testing.assert_allclose(hs.average_precision(d, rel), [1.0, 0.0])


def test_metrics_match_naive_loops_on_random_cases():
    rng = np.random.default_rng(5)
    n_bits = 6
    d = rng.integers(0, n_bits + 1, (12, 60))
    rel = rng.random((12, 60)) < 0.3
    ap = hs.average_precision(d.astype(np.uint8), rel)
    curves = hs.radius_curves(d, rel.astype(int), n_bits)
    for i in range(12):
        np.testing.assert_allclose(ap[i], naive_ap(d[i], rel[i]), rtol=1e-12)
        for n in (1, 7, 60):
            np.testing.assert_allclose(hs.precision_at(d, rel, n)[i],
                                       naive_precision_at(d[i], rel[i], n), rtol=1e-12)
        precision, recall, retrieved = naive_radius_curves(d[i], rel[i], n_bits)
        np.testing.assert_allclose(curves.precision[i], precision, rtol=1e-12)
        np.testing.assert_allclose(curves.recall[i], recall, rtol=1e-12)
        np.testing.assert_array_equal(curves.retrieved[i], retrieved)


def test_evaluate_retrieval_agrees_with_the_metrics_block_by_block():
    rng = np.random.default_rng(6)
    n_bits = 8
    db_bits, q_bits = random_bits(rng, 90, n_bits), random_bits(rng, 11, n_bits)
    db_labels, q_labels = rng.integers(0, 3, 90), rng.integers(0, 4, 11)  # label 3: no relevant
    queries, database = hs.pack_bits(q_bits), hs.pack_bits(db_bits)
    scores = hs.evaluate_retrieval(queries, database, q_labels, db_labels, cutoffs=(1, 5, 90),
                                   block_size=4)
    d = naive_distances(q_bits, db_bits)
    rel = q_labels[:, None] == db_labels[None, :]
    expected_ap = [naive_ap(d[i], rel[i]) for i in range(11)]
    np.testing.assert_allclose(scores.average_precision, expected_ap, rtol=1e-12)
    assert scores.mean_average_precision == pytest.approx(np.mean(expected_ap), rel=1e-12)
    for n in (1, 5, 90):
        assert scores.precision_at[n] == pytest.approx(
            np.mean([naive_precision_at(d[i], rel[i], n) for i in range(11)]), rel=1e-12)
    naive = [naive_radius_curves(d[i], rel[i], n_bits) for i in range(11)]
    for got, part in zip((scores.precision, scores.recall, scores.retrieved_fraction), range(3)):
        np.testing.assert_allclose(got, np.mean([curve[part] for curve in naive], axis=0), rtol=1e-12)


@pytest.mark.parametrize("workers", [1, 3])
def test_results_do_not_depend_on_the_number_of_threads(workers, monkeypatch):
    rng = np.random.default_rng(8)
    queries, database = hs.pack_bits(random_bits(rng, 23, 40)), hs.pack_bits(random_bits(rng, 150, 40))
    q_labels, db_labels = rng.integers(0, 3, 23), rng.integers(0, 3, 150)
    reference = (hs.hamming_distances(queries, database, block_size=23),
                 hs.hamming_knn(queries, database, 9, block_size=23),
                 hs.evaluate_retrieval(queries, database, q_labels, db_labels, cutoffs=(1, 10),
                                       block_size=23))
    monkeypatch.setattr(hs.search, "_workers", lambda: workers)
    blocked = (hs.hamming_distances(queries, database, block_size=2),
               hs.hamming_knn(queries, database, 9, block_size=2),
               hs.evaluate_retrieval(queries, database, q_labels, db_labels, cutoffs=(1, 10),
                                     block_size=2))
    np.testing.assert_array_equal(blocked[0], reference[0])
    for got, want in zip(blocked[1], reference[1]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(blocked[2].average_precision, reference[2].average_precision, rtol=1e-15)
    np.testing.assert_allclose(blocked[2].precision, reference[2].precision, rtol=1e-12)
    assert blocked[2].precision_at == pytest.approx(reference[2].precision_at, rel=1e-12)


# -- baselines -----------------------------------------------------------------

def clustered_data(seed, n=400, d=12):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (4, d))
    return centres[rng.integers(0, 4, n)] + rng.normal(size=(n, d)) * np.linspace(2, 0.2, d) + 5.0


def test_itq_loss_never_increases_and_the_rotation_is_orthogonal():
    x = clustered_data(7)
    itq = hs.fit_itq(x, 6, n_iter=30, seed=3)
    losses = np.array(itq.losses)
    assert len(losses) == 31
    assert np.all(np.diff(losses) <= 1e-9 * losses[0])
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(itq.rotation.T @ itq.rotation, np.eye(6), atol=1e-12)
    mean, components, _ = pca(x, 6)
    np.testing.assert_allclose(itq.projection, components.T @ itq.rotation, atol=1e-12)
    # The last recorded loss is the loss of the bits encode() returns.
    projected = (x - mean) @ itq.projection
    b = np.where(itq.encode(x), 1.0, -1.0)
    assert np.sum((b - projected) ** 2) == pytest.approx(losses[-1], rel=1e-12)
    assert hs.fit_itq(x, 6, n_iter=0).losses == hs.fit_itq(x, 6, n_iter=0).losses


def test_baselines_shapes_and_seeds():
    x = clustered_data(8)
    for fit in (lambda s: hs.fit_lsh(x, 20, seed=s), lambda s: hs.fit_itq(x, 5, n_iter=5, seed=s)):
        first, again, other = fit(1), fit(1), fit(2)
        bits = first.encode(x[:9])
        assert bits.dtype == bool and bits.shape == (9, first.n_bits)
        np.testing.assert_array_equal(first.projection, again.projection)
        np.testing.assert_array_equal(bits, again.encode(x[:9]))
        assert not np.allclose(first.projection, other.projection)
    lsh = hs.fit_lsh(x, 20, seed=1)
    assert lsh.method == "lsh" and lsh.rotation is None and lsh.losses == ()
    np.testing.assert_allclose(lsh.mean, x.mean(axis=0))
    pca_sign = hs.fit_pca_sign(x, 4)
    mean, components, _ = pca(x, 4)
    np.testing.assert_allclose(pca_sign.projection, components.T)
    np.testing.assert_array_equal(pca_sign.encode(x), (x - mean) @ components.T > 0)
    assert hs.fit_lsh(x, 64).n_bits == 64  # LSH may use more bits than dimensions
    # Codes from the baselines pack and search like any others.
    packed = hs.pack_bits(pca_sign.encode(x))
    assert hs.hamming_knn(packed[:3], packed, 1).distances.tolist() == [[0], [0], [0]]



def test_pca_baselines_reuse_the_leading_components_of_one_fit():
    x = clustered_data(10)
    longest = pca(x, 10)
    for n_bits in (3, 6, 10):
        reused = hs.fit_itq(x, n_bits, n_iter=8, seed=4, pca_fit=longest)
        fresh = hs.fit_itq(x, n_bits, n_iter=8, seed=4)
        np.testing.assert_array_equal(reused.projection, fresh.projection)
        assert reused.losses == fresh.losses
        np.testing.assert_array_equal(hs.fit_pca_sign(x, n_bits, pca_fit=longest).projection,
                                      hs.fit_pca_sign(x, n_bits).projection)
    with pytest.raises(ValueError, match="need at least 11 of dimension 12"):
        hs.fit_itq(x, 11, pca_fit=longest)
    with pytest.raises(ValueError, match="dimension 11"):
        hs.fit_pca_sign(x[:, :11], 3, pca_fit=longest)
    with pytest.raises(TypeError, match="rbmtut.pca.PCA"):
        hs.fit_itq(x, 3, pca_fit=longest.components)

# -- bad input -----------------------------------------------------------------

def test_bad_input_raises_clear_errors():
    bits = np.zeros((4, 10), bool)
    packed, other = hs.pack_bits(bits), hs.pack_bits(np.zeros((3, 12), bool))
    with pytest.raises(ValueError, match="binarize_codes"):
        hs.pack_bits(np.full((2, 3), 0.7))
    with pytest.raises(ValueError, match="2-D"):
        hs.pack_bits(np.zeros(5, bool))
    with pytest.raises(ValueError, match="NaN"):
        hs.binarize_codes(np.array([[np.nan, 0.1]]))
    with pytest.raises(TypeError, match="real-valued"):
        hs.binarize_codes(bits)
    with pytest.raises(ValueError, match="pack_bits"):
        hs.PackedCodes(np.zeros((2, 1), np.int64), 10)
    with pytest.raises(ValueError, match="beyond bit 10"):
        hs.PackedCodes(np.array([[2**10]], np.uint64), 10)
    with pytest.raises(ValueError, match="threshold must be"):
        hs.binarize_codes(np.zeros((2, 2)), np.nan)
    with pytest.raises(TypeError, match="pack_bits"):
        hs.hamming_distances(bits, packed)
    with pytest.raises(ValueError, match="12 bits but the database has 10"):
        hs.hamming_distances(other, packed)
    with pytest.raises(ValueError, match="at least one query"):
        hs.hamming_distances(packed[[]], packed)
    for n_neighbors in (0, 5):
        with pytest.raises(ValueError, match=r"n_neighbors must be an int in \[1, 4\]"):
            hs.hamming_knn(packed, packed, n_neighbors)
    with pytest.raises(TypeError, match="n_neighbors must be an int"):
        hs.hamming_knn(packed, packed, 1.5)
    table = hs.HammingTable(packed)
    with pytest.raises(ValueError, match="radius must be an int >= 0"):
        table.lookup(packed[0], -1)
    with pytest.raises(ValueError, match="one query"):
        table.lookup(packed, 1)
    with pytest.raises(ValueError, match="max_probes"):
        table.lookup(packed[0], 3, max_probes=100)
    with pytest.raises(ValueError, match="same hash"):
        table.lookup(other[0], 1)
    d = np.zeros((2, 3), int)
    with pytest.raises(ValueError, match="relevant must be bool"):
        hs.average_precision(d, np.zeros((2, 4), bool))
    with pytest.raises(ValueError, match="non-negative integers"):
        hs.average_precision(d + 0.5, np.zeros((2, 3), bool))
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 3\]"):
        hs.precision_at(d, np.zeros((2, 3), bool), 4)
    with pytest.raises(ValueError, match="exceed n_bits"):
        hs.radius_curves(d + 5, np.zeros((2, 3), bool), 4)
    with pytest.raises(ValueError, match=r"query_labels must have shape \(4,\)"):
        hs.evaluate_retrieval(packed, packed, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"database_labels must have shape \(4,\)"):
        hs.evaluate_retrieval(packed, packed, np.zeros(4), np.zeros((4, 1)))
    x = clustered_data(9, n=20, d=5)
    with pytest.raises(ValueError, match=r"n_bits must be an int in \[1, 5\]"):
        hs.fit_itq(x, 6)
    with pytest.raises(ValueError, match="n_bits must be an int in"):
        hs.fit_pca_sign(x, 0)
    with pytest.raises(ValueError, match="n_bits must be an int >= 1"):
        hs.fit_lsh(x, 0)
    with pytest.raises(ValueError, match="fitted on 5"):
        hs.fit_lsh(x, 3).encode(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="2-D"):
        hs.fit_lsh(x[0], 3)
