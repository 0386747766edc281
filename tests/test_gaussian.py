"""Gaussian units against independent references.

The references are written here in NumPy from the energies alone: sums over
the binary layer by enumeration, integrals over the real-valued layer on a
dense grid or by Monte Carlo.  Statistical tests use fixed seeds and
tolerances from their sample sizes.
"""

import itertools
import math

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import rbmtut
from rbmtut import gaussian_likelihood as gl
from rbmtut.gaussian import BernoulliGaussianRBM, GaussianBernoulliRBM
from rbmtut.learning import cd_loss
from rbmtut.likelihood import ais_schedule


def random_gb(n_visible, n_hidden, seed, scale=0.6, dtype=tf.float64):
    rng = np.random.default_rng(seed)
    model = GaussianBernoulliRBM(n_visible, n_hidden, dtype=dtype)
    model.W.assign(rng.normal(0, scale, (n_visible, n_hidden)))
    model.b.assign(rng.normal(0, 1, n_visible))
    model.c.assign(rng.normal(0, scale, n_hidden))
    model.log_variance.assign(rng.uniform(-0.7, 0.7, n_visible))
    return model


def random_bg(n_visible, n_hidden, seed, scale=0.4, dtype=tf.float64):
    rng = np.random.default_rng(seed)
    model = BernoulliGaussianRBM(n_visible, n_hidden, dtype=dtype)
    model.W.assign(rng.normal(0, scale, (n_visible, n_hidden)))
    model.b.assign(rng.normal(0, scale, n_visible))
    model.c.assign(rng.normal(0, scale, n_hidden))
    return model


def binary_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def gb_energy(model, v, h):
    """E(v, h) of every pair: v (n, d), h (m, k) -> (n, m), from the docstring."""
    W, b, c = (model.W.numpy(), model.b.numpy(), model.c.numpy())
    var = np.exp(model.log_variance.numpy())
    quad = np.sum((v - b) ** 2 / (2 * var), axis=1)
    return quad[:, None] - (h @ c)[None, :] - (v / var) @ W @ h.T


def gb_free_energy(model, v):
    e = gb_energy(model, v, binary_states(model.n_hidden))
    return -np.logaddexp.reduce(-e, axis=1)


def grid(n_dims, half_width, n_points):
    axis = np.linspace(-half_width, half_width, n_points)
    cell = (axis[1] - axis[0]) ** n_dims
    return np.stack(np.meshgrid(*[axis] * n_dims, indexing="ij"), -1).reshape(-1, n_dims), cell


# -- Gaussian visible units -------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
def test_gb_free_energy_sums_the_joint_over_h(seed):
    model = random_gb(3, 4, seed)
    v = np.random.default_rng(seed).normal(0, 2, (7, 3))
    np.testing.assert_allclose(model.free_energy(v).numpy(), gb_free_energy(model, v),
                               atol=1e-10)
    e = model.energy(np.repeat(v[:1], 16, 0), binary_states(4)).numpy()
    np.testing.assert_allclose(e, gb_energy(model, v[:1], binary_states(4))[0], atol=1e-10)


@pytest.mark.parametrize("n_visible", [1, 2, 3])
def test_gb_exact_log_z_equals_numerical_integration(n_visible):
    model = random_gb(n_visible, 3, seed=n_visible)
    # The density is a mixture of Gaussians with standard deviations <= e^0.35 and
    # means within |b| + |W| 1; a grid of +-12 holds all of its mass to 1e-12.
    points, cell = grid(n_visible, 12.0, {1: 4001, 2: 801, 3: 161}[n_visible])
    log_z = np.logaddexp.reduce(-gb_free_energy(model, points)) + math.log(cell)
    assert float(gl.exact_log_partition(model)) == pytest.approx(log_z, abs=1e-6)


def test_gb_hidden_free_energy_integrates_v_out():
    model = random_gb(2, 3, seed=4)
    points, cell = grid(2, 12.0, 801)
    h = binary_states(3)
    reference = -np.logaddexp.reduce(-gb_energy(model, points, h), axis=0) - math.log(cell)
    np.testing.assert_allclose(model.hidden_free_energy(h).numpy(), reference, atol=1e-6)


def test_gb_exact_log_z_agrees_with_monte_carlo_on_more_units():
    model = random_gb(6, 5, seed=5)
    rng = np.random.default_rng(0)
    n = 400_000  # importance sampling from a wide Gaussian q around b
    scale = 2.5 * np.exp(0.5 * model.log_variance.numpy())
    v = model.b.numpy() + scale * rng.normal(size=(n, 6))
    log_q = np.sum(stats.norm.logpdf(v, model.b.numpy(), scale), axis=1)
    log_ratio = -model.free_energy(v).numpy() - log_q
    shift = log_ratio.max()
    ratio = np.exp(log_ratio - shift)
    estimate = shift + math.log(ratio.mean())
    std_err = ratio.std() / math.sqrt(n) / ratio.mean()  # relative, i.e. in log space
    assert std_err < 0.01
    assert abs(float(gl.exact_log_partition(model)) - estimate) < 4 * std_err


def test_gb_conditionals_are_those_of_the_joint():
    model = random_gb(3, 4, seed=6)
    v = np.random.default_rng(1).normal(0, 1.5, (5, 3))
    h = binary_states(4)
    joint = np.exp(-gb_energy(model, v, h))
    p_h = (joint @ h) / joint.sum(1, keepdims=True)
    np.testing.assert_allclose(model.hidden_probs(v).numpy(), p_h, atol=1e-10)
    # E(v, h) is quadratic in v, so p(v | h) is Gaussian: its mean is where the
    # energy's slope vanishes, its precision the energy's curvature.
    mean = model.visible_mean(h).numpy()
    step = 1e-3
    for i in range(3):
        shift = np.zeros(3)
        shift[i] = step
        up = np.array([gb_energy(model, m[None] + shift, hh[None])[0, 0]
                       for m, hh in zip(mean, h)])
        down = np.array([gb_energy(model, m[None] - shift, hh[None])[0, 0]
                         for m, hh in zip(mean, h)])
        at = np.array([gb_energy(model, m[None], hh[None])[0, 0] for m, hh in zip(mean, h)])
        np.testing.assert_allclose((up - down) / (2 * step), 0, atol=1e-6)
        np.testing.assert_allclose((up - 2 * at + down) / step**2,
                                   np.exp(-model.log_variance.numpy()[i]), rtol=1e-4)


def test_gb_visible_draws_pass_a_kolmogorov_smirnov_test():
    # The reference is the Gaussian derived in the test above: N(b + W h, sigma^2).
    model = random_gb(4, 3, seed=7)
    h = np.tile(binary_states(3)[[5]], (5000, 1))
    rng = tf.random.Generator.from_seed(0)
    v = model.sample_visible(h, rng).numpy()
    mean = model.b.numpy() + h @ model.W.numpy().T
    z = (v - mean) / np.exp(0.5 * model.log_variance.numpy())
    for i in range(4):  # each unit: N(mean, sigma^2) exactly
        assert stats.kstest(z[:, i], "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z, rowvar=False)[0, 1]) < 4 / math.sqrt(5000)


def test_gb_gibbs_chains_reach_the_exact_hidden_marginal():
    model = random_gb(2, 3, seed=8)
    p_h = np.exp(-model.hidden_free_energy(binary_states(3)).numpy()
                 - float(gl.exact_log_partition(model)))
    assert p_h.sum() == pytest.approx(1.0, abs=1e-9)
    n = 20_000
    state = rbmtut.gibbs.gibbs_chain(model, model.noise(tf.constant(n),
                                     tf.random.Generator.from_seed(1)), 50,
                                     tf.random.Generator.from_seed(2))
    codes = state.h.numpy() @ (2 ** np.arange(3)[::-1])
    counts = np.bincount(codes.astype(int), minlength=8)
    assert stats.chisquare(counts, n * p_h).pvalue > 1e-3


def test_gb_ais_is_within_a_tenth_of_a_nat_of_the_exact_value():
    model = random_gb(10, 8, seed=9, scale=0.4, dtype=tf.float32)
    data = model.sample(500, seed=3, k=200).numpy()
    result = gl.ais_log_partition(model, data, n_runs=100,
                                  betas=ais_schedule("linear", 2000), seed=0)
    assert abs(result.log_z - float(gl.exact_log_partition(model))) < 0.1
    assert result.std_err < 0.05


def test_gb_at_w_zero_the_data_moments_are_a_stationary_point():
    rng = np.random.default_rng(3)
    x = rng.normal([1.0, -2.0, 0.5], [0.5, 2.0, 1.0], size=(2000, 3))
    model = GaussianBernoulliRBM(3, 2, weight_std=0.0, dtype=tf.float64)
    model.init_from_data(x)
    np.testing.assert_allclose(model.variance.numpy(), x.var(0), rtol=1e-12)

    def gradient():
        with tf.GradientTape() as tape:
            nll = tf.reduce_mean(model.free_energy(x)) + gl.exact_log_partition(model)
        return [g.numpy() for g in tape.gradient(nll, model.parameters)]

    assert max(np.abs(g).max() for g in gradient()) < 1e-10
    model.log_variance.assign_add([0.1, 0.0, 0.0])
    assert np.abs(gradient()[3]).max() > 1e-2


def exact_moments(model):
    """The model's marginal mean and variance of each visible unit, exactly: a
    mixture over h of N(b + W h, sigma^2)."""
    h = binary_states(model.n_hidden)
    p_h = np.exp(-model.hidden_free_energy(h).numpy().astype(np.float64)
                 - float(gl.exact_log_partition(model)))
    means = model.visible_mean(h).numpy().astype(np.float64)
    mean = p_h @ means
    return mean, model.variance.numpy() + p_h @ (means - mean) ** 2


def test_gb_learning_recovers_the_data_means_and_variances():
    rng = np.random.default_rng(4)
    means, stds = np.array([1.0, -2.0, 0.5]), np.array([0.5, 2.0, 1.0])
    x = (means + stds * rng.normal(size=(20_000, 3))).astype("float32")
    model = GaussianBernoulliRBM(3, 2, weight_std=0.0)  # W starts at 0
    rate = lambda epoch: 0.02 * (1 - epoch / 10)  # noqa: E731
    trainer = rbmtut.RBMTrainer(model, method="pcd", n_chains=100, learning_rate=rate,
                                momentum=0.5)
    rbmtut.train_epochs(trainer, x, epochs=10, batch_size=100, progress=False)
    mean, variance = exact_moments(model)
    # The PCD estimate of each mean has a standard error of about sigma / 10 per
    # update (100 chains); with rate 0.02 the parameters average ~100 updates,
    # so ~0.01 sigma.  Allow 0.05 sigma, and 10% on the variances.
    assert np.all(np.abs(mean - x.mean(0)) < 0.05 * stds)
    np.testing.assert_allclose(variance, x.var(0), rtol=0.1)


@pytest.mark.parametrize("log_variance", [-45.0, 45.0])
def test_gb_gradients_stay_finite_at_extreme_variances(log_variance):
    # sigma^2 from 3e-20 to 3e19: any sigma^4 (or precision^2) on the way would
    # overflow float32 (e^90 > 3.4e38); the log-variance form never forms one.
    model = random_gb(5, 4, seed=10, dtype=tf.float32)
    model.log_variance.assign(tf.fill([5], log_variance))
    v = np.random.default_rng(0).normal(0, 3, (8, 5))
    with tf.GradientTape() as tape:
        loss = cd_loss(model, v, model.sample(8, seed=1, k=3))
    grads = tape.gradient(loss, model.parameters)
    assert np.isfinite(float(loss))
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)


def test_gb_samples_are_draws_not_means():
    model = random_gb(3, 2, seed=11)
    n = 4000
    start = np.zeros((n, 3))
    state = rbmtut.gibbs.gibbs_chain(model, start, 1, tf.random.Generator.from_seed(0))
    # Around their means the draws spread with the model's variances: the sample
    # variance of n normal draws has relative standard error sqrt(2 / n), 2.2%.
    spread = np.var(state.v.numpy() - state.v_probs.numpy(), axis=0)
    np.testing.assert_allclose(spread, model.variance.numpy(), rtol=4 * np.sqrt(2 / n))
    draws = model.sample(n, seed=0, k=1, start=start).numpy()
    assert np.all(draws.var(0) >= 0.9 * model.variance.numpy())
    np.testing.assert_array_equal(draws, model.sample(n, seed=0, k=1,
                                                      start=start).numpy())


def test_fixed_variances_are_not_trained_and_survive_saving(tmp_path):
    model = GaussianBernoulliRBM(4, 3, learn_variance=False, seed=1)
    model.log_variance.assign([0.1, 0.2, 0.3, 0.4])
    x = np.random.default_rng(0).normal(size=(200, 4)).astype("float32")
    rbmtut.train_epochs(rbmtut.RBMTrainer(model, method="cd", learning_rate=0.01), x,
                        epochs=1, batch_size=20, progress=False)
    np.testing.assert_allclose(model.log_variance.numpy(), [0.1, 0.2, 0.3, 0.4])
    loaded = rbmtut.load_model(model.save(tmp_path / "gb"))
    assert isinstance(loaded, GaussianBernoulliRBM) and not loaded.learn_variance
    for a, b in zip(loaded.variables, model.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- scaling and the baseline ----------------------------------------------------

def test_log_likelihood_in_the_data_units_adds_the_jacobian():
    rng = np.random.default_rng(5)
    x = rng.normal([3.0, -1.0], [4.0, 0.2], size=(500, 2))
    scaling = gl.Preprocessing.standardize(x)
    model = GaussianBernoulliRBM(2, 1, weight_std=0.0, dtype=tf.float64)
    model.init_from_data(scaling.apply(x))
    got = gl.log_likelihood(model, scaling.apply(x), gl.exact_log_partition(model),
                            preprocessing=scaling)
    # With W = 0 the model is the independent Gaussian fitted to x, in x's units.
    expected = np.mean(np.sum(stats.norm.logpdf(x, x.mean(0), x.std(0)), axis=1))
    assert got == pytest.approx(expected, abs=1e-4)  # float32 scaled data


def test_whitening_decorrelates_and_its_jacobian_keeps_the_gaussian_density():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(3, 3))
    x = rng.normal(size=(5000, 3)) @ a + [1.0, 2.0, 3.0]
    white = gl.Preprocessing.whiten(x, epsilon=0.0)
    z = white.apply(x)
    np.testing.assert_allclose(np.cov(z, rowvar=False, bias=True), np.eye(3), atol=1e-5)
    np.testing.assert_allclose(white.matrix, white.matrix.T, atol=1e-12)  # ZCA
    np.testing.assert_allclose(white.invert(z), x, atol=1e-4)
    # A standard normal on z, mapped back, is the Gaussian fitted to x.
    log_p = (np.mean(np.sum(stats.norm.logpdf(z.astype(np.float64)), 1))
             + white.log_jacobian)
    assert log_p == pytest.approx(gl.gaussian_log_likelihood(x, x, ridge=0.0), abs=1e-4)


def test_full_covariance_baseline_matches_scipy():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(4, 4))
    train = rng.normal(size=(3000, 4)) @ a
    test = rng.normal(size=(500, 4)) @ a
    reference = stats.multivariate_normal(train.mean(0), np.cov(train.T, bias=True))
    got = gl.gaussian_log_likelihood(train, test, ridge=0.0)
    assert got == pytest.approx(reference.logpdf(test).mean(), abs=1e-9)


# -- linear hidden units ------------------------------------------------------------

def test_bg_free_energy_integrates_the_linear_hidden_units_out():
    model = random_bg(4, 2, seed=12)
    points, cell = grid(2, 14.0, 1401)
    v = binary_states(4)
    W, b, c = model.W.numpy(), model.b.numpy(), model.c.numpy()
    energy = (-(v @ b)[:, None] - (points @ c)[None, :]
              + 0.5 * np.sum(points**2, 1)[None, :] - v @ W @ points.T)
    reference = -np.logaddexp.reduce(-energy, axis=1) - math.log(cell)
    np.testing.assert_allclose(model.free_energy(v).numpy(), reference, atol=1e-6)
    log_z = np.logaddexp.reduce(-reference)
    assert float(gl.exact_log_partition(model)) == pytest.approx(log_z, abs=1e-6)


def test_bg_hidden_draws_are_unit_variance_gaussians_around_c_plus_vw():
    # E(v, h) = -v.b - h.c + |h|^2 / 2 - v W h has slope -c - v W + h in h and
    # curvature 1: p(h | v) = N(c + v W, I).
    model = random_bg(5, 3, seed=13)
    v = np.tile(binary_states(5)[[9]], (5000, 1))
    h = model.sample_hidden(v, tf.random.Generator.from_seed(0)).numpy()
    mean = model.hidden_probs(v[:1]).numpy()[0]
    W, b, c = model.W.numpy(), model.b.numpy(), model.c.numpy()
    energy = lambda hh: -v[0] @ b - hh @ c + 0.5 * hh @ hh - v[0] @ W @ hh  # noqa: E731
    for j in range(3):
        e = np.eye(3)[j] * 1e-3
        assert abs(energy(mean + e) - energy(mean - e)) / 2e-3 < 1e-8
        assert (energy(mean + e) - 2 * energy(mean) + energy(mean - e)) / 1e-6 == \
            pytest.approx(1.0, rel=1e-4)
    for j in range(3):
        assert stats.kstest(h[:, j] - mean[j], "norm").pvalue > 1e-3


def test_bg_gibbs_chains_reach_the_exact_visible_distribution():
    model = random_bg(4, 2, seed=14, scale=0.8)
    v = binary_states(4)
    p_v = np.exp(-model.free_energy(v).numpy() - float(gl.exact_log_partition(model)))
    assert p_v.sum() == pytest.approx(1.0, abs=1e-9)
    n = 20_000
    rng = tf.random.Generator.from_seed(3)
    state = rbmtut.gibbs.gibbs_chain(model, model.noise(tf.constant(n), rng), 50, rng)
    codes = (state.v.numpy() @ (2 ** np.arange(4)[::-1])).astype(int)
    assert stats.chisquare(np.bincount(codes, minlength=16), n * p_v).pvalue > 1e-3


def test_unrolling_a_linear_top_gives_the_linear_code_layer(tmp_path):
    x = (np.random.default_rng(0).random((200, 20)) < 0.3).astype("float32")
    dbn = rbmtut.DBN([20, 12, 3], top_units="linear", weight_std=0.1, seed=1)
    rbmtut.fit_dbn(dbn, x, epochs=1, batch_size=20, progress=False, learning_rate=0.01)
    autoencoder = dbn.unroll()
    penultimate = dbn.rbms[0].hidden_probs(x)
    code = dbn.top.c.numpy() + penultimate.numpy() @ dbn.top.W.numpy()
    np.testing.assert_allclose(autoencoder.encode(x).numpy(), code, atol=1e-5)
    assert np.any(code < 0)  # not squashed into (0, 1) by a sigmoid
    with pytest.raises(ValueError, match="linear hidden units"):
        dbn.unroll(code="logistic")
    loaded = rbmtut.load_model(dbn.save(tmp_path / "stack"))
    assert loaded.top_units == "linear"
    np.testing.assert_allclose(loaded.up(x)[-1].numpy(), code, atol=1e-5)
    # The generative pass starts from real-valued codes.
    pixels = dbn.down(code, from_layer=2)[-1].numpy()
    np.testing.assert_allclose(pixels, autoencoder.decode(code).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="binary top RBM"):
        rbmtut.UntiedDBN.from_dbn(dbn)


# -- what the trainer refuses --------------------------------------------------------

@pytest.mark.parametrize("fields", [dict(method="pt", n_chains=10),
                                    dict(method="fpcd", n_chains=10),
                                    dict(method="pcd", n_chains=10, centering=0.01),
                                    dict(method="exact")])
def test_gaussian_models_refuse_what_is_built_for_binary_units(fields):
    with pytest.raises(ValueError, match="trains with method='cd' or 'pcd'"):
        rbmtut.RBMTrainer(GaussianBernoulliRBM(4, 3), **fields)


def test_the_keras_and_multi_device_trainers_refuse_gaussian_units():
    with pytest.raises(TypeError, match="binary RBMs"):
        rbmtut.keras_rbm.RBMModel(rbmtut.RBMTrainer(GaussianBernoulliRBM(4, 3)))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = BernoulliGaussianRBM(4, 3)
        with pytest.raises(ValueError, match="Gaussian units runs on one device"):
            rbmtut.distribute.DistributedRBMTrainer(model)


def test_gaussian_inputs_are_checked():
    model = GaussianBernoulliRBM(3, 2)
    with pytest.raises(ValueError, match="constant column"):
        model.init_from_data(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        model.free_energy(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="20 binary units"):
        gl.exact_log_partition(GaussianBernoulliRBM(3, 21))
    with pytest.raises(TypeError, match="GaussianBernoulliRBM"):
        gl.ais_log_partition(BernoulliGaussianRBM(3, 2), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="constant column"):
        gl.ais_log_partition(model, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="in \\[0, 1\\]|0 and 1|unit"):
        BernoulliGaussianRBM(3, 2).free_energy(np.full((2, 3), 2.0))


def test_image_patches_are_reproducible_grey_crops_inside_disjoint_blocks():
    patches = rbmtut.data.sample_image_patches(6, (60, 20, 30), seed=3)
    assert [p.shape for p in patches] == [(60, 36), (20, 36), (30, 36)]
    assert all(p.dtype == np.float32 and p.min() >= 0 and p.max() <= 1 for p in patches)
    again = rbmtut.data.sample_image_patches(6, (60, 20, 30), seed=3)
    for a, b in zip(patches, again):
        np.testing.assert_array_equal(a, b)
    from sklearn.datasets import load_sample_images
    grey = load_sample_images().images[0].mean(axis=2) / 255.0
    windows = np.lib.stride_tricks.sliding_window_view(grey, (6, 6))

    def blocks(split):  # the 32 x 32 blocks the first photograph's patches lie in
        found = set()
        for patch in split[:len(split) - len(split) // 2]:
            rows, cols = np.nonzero(np.all(np.abs(windows - patch.reshape(6, 6))
                                           < 1e-6, axis=(2, 3)))
            inside = {(r // 32, c // 32) for r, c in zip(rows, cols)
                      if r // 32 == (r + 5) // 32 and c // 32 == (c + 5) // 32}
            assert inside  # a crop of the photograph, inside one block
            found |= inside
        return found

    assert not blocks(patches.train) & blocks(patches.test)
    with pytest.raises(TypeError, match="n must be"):
        rbmtut.data.sample_image_patches(6, 100)


def test_a_diverging_run_stops_with_a_clear_error():
    # Raw grey levels times 255 and a binary-unit learning rate: the classic
    # Gaussian-unit failure.  The loop stops at the first non-finite epoch.
    x = rbmtut.data.sample_image_patches(4, (2000, 2, 2), seed=0).train * 255.0
    model = GaussianBernoulliRBM(16, 8, weight_std=0.1)
    trainer = rbmtut.RBMTrainer(model, method="cd", learning_rate=0.1)
    with pytest.raises(FloatingPointError, match="diverged in epoch 1"):
        rbmtut.train_epochs(trainer, x, epochs=3, batch_size=20, progress=False)
