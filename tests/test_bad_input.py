"""Every public entry point, fed what a new user might feed it.

Each case calls an entry point with one bad argument and expects a
``TypeError`` (wrong type) or ``ValueError`` (wrong value) whose message
names the argument.  Data-taking entry points get the whole family of bad
data (wrong dtype, rank and width, NaN, inf, out-of-range values, grey levels
where bits are needed, empty arrays); sizes, seeds and settings get zero,
negative, fractional and wrongly typed values.  A second group checks that
legal input that used to fail (float64 data for a float32 model) gives the
right answer, and that nothing comes back NaN.  ``test_the_matrix_is_large``
keeps the matrix from shrinking unnoticed.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import rbmtut
from rbmtut import book, data, exact, gibbs, hashing, likelihood, nn, pca, plotting, regularizers
from rbmtut.autoencoder_training import fit_autoencoder
from rbmtut.autoencoders import Autoencoder, reconstruction_loss, stack
from rbmtut.classifiers import RBFKernelSVC, keras_classifier
from rbmtut.distribute import DistributedRBMTrainer
from rbmtut.features import DBNFeatures, RBMFeatures
from rbmtut.fitting import batch_dataset, checkpoint_manager, default_monitors
from rbmtut.keras_rbm import RBMModel
from rbmtut.learning import RBMTrainer, cd_gradients, cd_loss
from rbmtut.learning_rule import LearningRule
from rbmtut.pretraining import fit_dbn
from rbmtut.rbm import BernoulliRBM
from rbmtut.updown import UntiedDBN, UpDownTrainer, fit_updown
from rbmtut.vae import VAE, estimate_log_likelihood, fit_vae

BITS = (np.random.default_rng(0).random((20, 6)) < 0.5).astype(np.float32)
GREY = np.random.default_rng(1).random((20, 6)).astype(np.float32)
RBM = BernoulliRBM(6, 4, seed=0)
DBN6 = rbmtut.DBN([6, 5, 4], seed=0)
AE = Autoencoder([6, 4, 3], seed=0)
LINEAR_AE = Autoencoder([6, 3], activation="linear", output="linear", seed=0)
VAE6 = VAE(6, hidden=(5,), n_latent=2, seed=0)
CODES = hashing.pack_bits(BITS > 0.5)
LABELS = np.arange(20) % 3


def bad_data(width: int, *, values: str) -> list:
    """``(id, bad x, error type, text the message contains)`` for an entry point taking (n, width)."""
    cases = [
        ("strings", np.array([["a"] * width] * 3), TypeError, ""),
        ("complex", np.ones((3, width), complex), TypeError, ""),
        ("none", None, TypeError, ""),
        ("1-D", np.zeros(width, np.float32), ValueError, "2-D"),
        ("3-D", np.zeros((2, width, 1), np.float32), ValueError, "2-D"),
        ("width", np.zeros((3, width + 1), np.float32), ValueError, "columns"),
        ("nan", np.full((3, width), np.nan, np.float32), ValueError, "NaN"),
        ("inf", np.full((3, width), np.inf, np.float32), ValueError, "NaN or infinite"),
        ("empty", np.zeros((0, width), np.float32), ValueError, "empty"),
    ]
    if values in ("unit", "binary"):
        rule = "[0, 1]" if values == "unit" else "binary"
        cases += [("negative", -np.ones((3, width), np.float32), ValueError, rule),
                  ("above-one", 2 * np.ones((3, width), np.float32), ValueError, rule)]
    if values == "binary":
        cases += [("grey", np.full((3, width), 0.5, np.float32), ValueError, "binary")]
    return cases


# entry point id -> (function of the data, width, values the data must hold)
DATA_ENTRY_POINTS = {
    "rbm.hidden_probs": (RBM.hidden_probs, 6, "unit"),
    "rbm.hidden_logits": (RBM.hidden_logits, 6, "unit"),
    "rbm.visible_probs": (lambda h: RBM.visible_probs(h), 4, "unit"),
    "rbm.sample_hidden": (lambda v: RBM.sample_hidden(v, tf.random.Generator.from_seed(0)), 6, "unit"),
    "rbm.sample_visible": (lambda h: RBM.sample_visible(h, tf.random.Generator.from_seed(0)), 4, "unit"),
    "rbm.free_energy": (RBM.free_energy, 6, "unit"),
    "rbm.hidden_free_energy": (RBM.hidden_free_energy, 4, "unit"),
    "rbm.init_visible_bias_from_data": (lambda x: RBM.copy().init_visible_bias_from_data(x), 6, "unit"),
    "rbm.sample(start)": (lambda x: RBM.sample(3, start=x, k=2), 6, "unit"),
    "gibbs_step": (lambda v: gibbs.gibbs_step(RBM, v, tf.random.Generator.from_seed(0)), 6, "unit"),
    "gibbs_chain": (lambda v: gibbs.gibbs_chain(RBM, v, 2, tf.random.Generator.from_seed(0)), 6, "unit"),
    "PersistentChains": (lambda v: gibbs.PersistentChains(v), 6, "real"),
    "reconstruction_cross_entropy": (lambda v: likelihood.reconstruction_cross_entropy(RBM, v), 6, "unit"),
    "pseudo_log_likelihood": (lambda v: likelihood.pseudo_log_likelihood(RBM, v), 6, "binary"),
    "stochastic pseudo_log_likelihood": (
        lambda v: likelihood.pseudo_log_likelihood(RBM, v, stochastic=True, seed=0), 6, "binary"),
    "log_likelihood": (lambda v: likelihood.log_likelihood(RBM, v, 0.0), 6, "binary"),
    "base_rate_bias": (likelihood.base_rate_bias, 6, "unit"),
    "state_codes": (exact.state_codes, 6, "binary"),
    "fit_rbm": (lambda x: rbmtut.fit_rbm(RBM.copy(), x, epochs=1, batch_size=1, progress=False), 6, "unit"),
    "fit_rbm(validation_data)": (
        lambda x: rbmtut.fit_rbm(RBM.copy(), BITS, epochs=1, batch_size=5, validation_data=x,
                                 progress=False), 6, "unit"),
    "RBMTrainer.step": (lambda x: RBMTrainer(RBM.copy()).step(x), 6, "unit"),
    "train_epochs": (lambda x: rbmtut.train_epochs(RBMTrainer(RBM.copy()), x, epochs=1, batch_size=1,
                                                   progress=False), 6, "unit"),
    "RBMModel.fit": (lambda x: RBMModel(RBMTrainer(RBM.copy())).fit(x, batch_size=1, verbose=0), 6, "unit"),
    "dbn.up": (DBN6.up, 6, "unit"),
    "dbn.sample_up": (lambda v: DBN6.sample_up(v, seed=0), 6, "unit"),
    "dbn.down": (lambda h: DBN6.down(h), 5, "unit"),
    "dbn.sample(start)": (lambda v: DBN6.sample(3, start=v, k=2), 6, "unit"),
    "dbn.reconstruction_cross_entropy": (DBN6.reconstruction_cross_entropy, 6, "unit"),
    "fit_dbn": (lambda x: fit_dbn(rbmtut.DBN([6, 5, 4]), x, epochs=1, batch_size=1, progress=False), 6, "unit"),
    "fit_updown": (lambda x: fit_updown(UntiedDBN.from_dbn(DBN6), x, epochs=1, batch_size=1,
                                        progress=False), 6, "unit"),
    "autoencoder.encode": (AE.encode, 6, "real"),
    "reconstruction_loss": (lambda x: reconstruction_loss(AE, x), 6, "unit"),
    "reconstruction_loss(squared)": (lambda x: reconstruction_loss(LINEAR_AE, x), 6, "real"),
    "fit_autoencoder": (lambda x: fit_autoencoder(Autoencoder([6, 3]), x, epochs=1, batch_size=1,
                                                  progress=False), 6, "unit"),
    "fit_autoencoder(squared)": (
        lambda x: fit_autoencoder(Autoencoder([6, 3], output="linear"), x, epochs=1, batch_size=1,
                                  progress=False), 6, "real"),
    "vae.encode": (VAE6.encode, 6, "unit"),
    "vae.elbo_terms": (lambda x: VAE6.elbo_terms(x, tf.random.Generator.from_seed(0)), 6, "unit"),
    "vae.iwae_bound": (lambda x: VAE6.iwae_bound(x, 3, tf.random.Generator.from_seed(0)), 6, "unit"),
    "estimate_log_likelihood": (
        lambda x: estimate_log_likelihood(VAE6, x, n_samples=3, progress=False), 6, "binary"),
    "fit_vae": (lambda x: fit_vae(VAE(6, hidden=(5,), n_latent=2), x, epochs=1, batch_size=1,
                                  progress=False), 6, "unit"),
    "pca": (lambda x: pca.pca(x, 2), 6, "real"),
    "PCA.project": (lambda x: pca.pca(GREY, 2).project(x), 6, "real"),
    "fit_lsh": (lambda x: hashing.fit_lsh(x, 4), 6, "real"),
    "fit_pca_sign": (lambda x: hashing.fit_pca_sign(x, 2), 6, "real"),
    "fit_itq": (lambda x: hashing.fit_itq(x, 2), 6, "real"),
    "LinearHash.encode": (lambda x: hashing.fit_lsh(GREY, 4).encode(x), 6, "real"),
    "binarize_codes": (hashing.binarize_codes, 6, "real"),
    "RBMFeatures.fit": (lambda x: RBMFeatures(3, epochs=1).fit(x), 6, "unit"),
}
# Where the family's message differs from the data-independent checks above.
SKIP = {
    # A width mismatch is only an error where the width is fixed by a model.
    ("pca", "width"), ("fit_lsh", "width"), ("fit_pca_sign", "width"), ("fit_itq", "width"),
    ("binarize_codes", "width"), ("base_rate_bias", "width"), ("state_codes", "width"),
    ("PersistentChains", "width"),
    # start=None is legal: it means "start from noise".
    ("rbm.sample(start)", "none"), ("dbn.sample(start)", "none"),
    ("fit_rbm(validation_data)", "none"),  # None: monitor training rows instead
    ("state_codes", "empty"),  # no rows, no codes
    # scikit-learn checks these itself, with its own messages.
    ("RBMFeatures.fit", "width"), ("RBMFeatures.fit", "strings"), ("RBMFeatures.fit", "complex"),
    ("RBMFeatures.fit", "none"), ("RBMFeatures.fit", "1-D"), ("RBMFeatures.fit", "3-D"),
    ("RBMFeatures.fit", "nan"), ("RBMFeatures.fit", "inf"), ("RBMFeatures.fit", "empty"),
}
DATA_CASES = [
    pytest.param(fn, x, error, text, id=f"{name}-{case}")
    for name, (fn, width, values) in DATA_ENTRY_POINTS.items()
    for case, x, error, text in bad_data(width, values=values)
    if (name, case) not in SKIP
]


@pytest.mark.parametrize("fn, x, error, text", DATA_CASES)
def test_bad_data_is_refused_clearly(fn, x, error, text):
    with pytest.raises(error) as caught:
        fn(x)
    message = str(caught.value)
    assert text in message, message
    if error is not TypeError or "None" not in message:
        assert any(word in message for word in ("x", "v", "h", "start", "batch", "codes",
                                                "validation_data", "initial", "X")), message


def _raises(fn, error, text):
    return pytest.param(fn, error, text)


def _call(fn, *args, **kwargs):
    return lambda: fn(*args, **kwargs)


ARGUMENT_CASES = {
    # sizes, dtypes and seeds of the models
    "rbm n_visible float": (_call(BernoulliRBM, 6.0, 4), TypeError, "n_visible"),
    "rbm n_hidden zero": (_call(BernoulliRBM, 6, 0), ValueError, "n_hidden"),
    "rbm n_hidden bool": (_call(BernoulliRBM, 6, True), TypeError, "n_hidden"),
    "rbm weight_std negative": (_call(BernoulliRBM, 6, 4, weight_std=-1.0), ValueError, "weight_std"),
    "rbm weight_std string": (_call(BernoulliRBM, 6, 4, weight_std="0.1"), TypeError, "weight_std"),
    "rbm seed float": (_call(BernoulliRBM, 6, 4, seed=2.5), TypeError, "seed"),
    "rbm seed negative": (_call(BernoulliRBM, 6, 4, seed=-1), ValueError, "seed"),
    "rbm seed string": (_call(BernoulliRBM, 6, 4, seed="0"), TypeError, "seed"),
    "rbm seed huge": (_call(BernoulliRBM, 6, 4, seed=2**64), ValueError, "seed"),
    "rbm dtype int": (_call(BernoulliRBM, 6, 4, dtype=tf.int32), ValueError, "dtype"),
    "rbm dtype nonsense": (_call(BernoulliRBM, 6, 4, dtype="nonsense"), TypeError, "dtype"),
    "rbm visible_bias shape": (_call(BernoulliRBM, 6, 4, visible_bias=np.zeros(5)), ValueError, "visible_bias"),
    "rbm visible_bias nan": (_call(BernoulliRBM, 6, 4, visible_bias=np.full(6, np.nan)), ValueError, "visible_bias"),
    "rbm eps": (_call(RBM.copy().init_visible_bias_from_data, BITS, eps=0.7), ValueError, "eps"),
    "rbm.sample n zero": (_call(RBM.sample, 0), ValueError, "n"),
    "rbm.sample n float": (_call(RBM.sample, 2.0), TypeError, "n"),
    "rbm.sample k zero": (_call(RBM.sample, 2, k=0), ValueError, "k"),
    "rbm.sample seed": (_call(RBM.sample, 2, seed=-3), ValueError, "seed"),
    "rbm.sample start rows": (_call(RBM.sample, 3, start=BITS[:2]), ValueError, "start"),
    "rbm.energy rows": (_call(RBM.energy, BITS[:3], np.zeros((2, 4))), ValueError, "rows"),
    "gibbs_chain k zero": (_call(gibbs.gibbs_chain, RBM, BITS, 0, tf.random.Generator.from_seed(0)), ValueError, "k"),
    "gibbs_chain k float": (_call(gibbs.gibbs_chain, RBM, BITS, 1.5, tf.random.Generator.from_seed(0)), TypeError, "k"),
    "exact chunk_bits zero": (_call(exact.exact_log_partition, RBM, chunk_bits=0), ValueError, "chunk_bits"),
    "exact chunk_bits float": (_call(exact.exact_log_partition, RBM, chunk_bits=2.0), TypeError, "chunk_bits"),
    "exact too large": (_call(exact.exact_log_partition, BernoulliRBM(30, 30)), ValueError, "ais_log_partition"),
    "all_binary_states zero": (_call(exact.all_binary_states, 0), ValueError, "n_units"),
    "all_binary_states big": (_call(exact.all_binary_states, 40), ValueError, "n_units"),
    "total_variation shapes": (_call(exact.total_variation, np.ones(3) / 3, np.ones(4) / 4), ValueError, "shape"),
    "empirical too wide": (_call(exact.empirical_distribution, np.zeros((2, 30))), ValueError, "bits"),
    # the learning rule, wherever it is given
    "rule method": (_call(LearningRule, method="gibbs"), ValueError, "method"),
    "rule method type": (_call(LearningRule, method=1), TypeError, "method"),
    "rule k zero": (_call(LearningRule, k=0), ValueError, "k"),
    "rule k float": (_call(LearningRule, k=1.0), TypeError, "k"),
    "rule learning_rate zero": (_call(LearningRule, learning_rate=0.0), ValueError, "learning_rate"),
    "rule learning_rate string": (_call(LearningRule, learning_rate="0.1"), TypeError, "learning_rate"),
    "rule momentum one": (_call(LearningRule, momentum=1.0), ValueError, "momentum"),
    "rule weight_decay negative": (_call(LearningRule, weight_decay=-1e-3), ValueError, "weight_decay"),
    "rule weight_decay nan": (_call(LearningRule, weight_decay=float("nan")), ValueError, "weight_decay"),
    "rule optimizer string": (_call(LearningRule, optimizer="adam"), TypeError, "optimizer"),
    "rule bias_optimizer alone": (_call(LearningRule, bias_optimizer=keras.optimizers.SGD()), ValueError, "bias_optimizer"),
    "rule rate with optimizer": (_call(LearningRule, optimizer=keras.optimizers.SGD(), learning_rate=0.1), ValueError, "learning_rate"),
    "rule n_chains for cd": (_call(LearningRule, n_chains=10), ValueError, "n_chains"),
    "rule n_chains zero": (_call(LearningRule, method="pcd", n_chains=0), ValueError, "n_chains"),
    "rule unknown field": (_call(LearningRule.build, None, learnin_rate=0.1), TypeError, "learnin_rate"),
    "trainer rbm type": (_call(RBMTrainer, "rbm"), TypeError, "rbm"),
    "trainer pcd without chains": (_call(RBMTrainer, RBM.copy(), method="pcd"), ValueError, "n_chains"),
    "trainer exact too large": (_call(RBMTrainer, BernoulliRBM(30, 30), method="exact"), ValueError, "exact"),
    "trainer jit without compile": (_call(RBMTrainer, RBM.copy(), compile=False, jit_compile=True), ValueError, "jit_compile"),
    "trainer compile string": (_call(RBMTrainer, RBM.copy(), compile="yes"), TypeError, "compile"),
    "trainer seed": (_call(RBMTrainer, RBM.copy(), seed=1.5), TypeError, "seed"),
    "trainer used optimizer": (lambda: [RBMTrainer(RBM.copy(), optimizer=o) for o in [keras.optimizers.SGD()] * 2],
                               ValueError, "fresh"),
    "distributed outside scope": (_call(DistributedRBMTrainer, RBM.copy()), ValueError, "scope"),
    "trainer epoch order rank": (_call(RBMTrainer(RBM.copy()).epoch, BITS, np.arange(4)), ValueError, "order"),
    "cd_loss width": (_call(cd_loss, RBM, BITS[:, :5], BITS), ValueError, "columns"),
    "cd_gradients width": (_call(cd_gradients, RBM, BITS, RBM.hidden_probs(BITS), BITS[:, :5], BITS[:, :4]), ValueError, "columns"),
    # the epoch loop and fit_rbm
    "fit_rbm epochs negative": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, epochs=-1, progress=False), ValueError, "epochs"),
    "fit_rbm epochs float": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, epochs=1.5, progress=False), TypeError, "epochs"),
    "fit_rbm batch_size zero": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, batch_size=0, progress=False), ValueError, "batch_size"),
    "fit_rbm batch_size large": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, batch_size=21, progress=False), ValueError, "batch_size"),
    "fit_rbm monitors list": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, monitors=[lambda m: 0.0], progress=False), TypeError, "monitors"),
    "fit_rbm monitor not callable": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, monitors={"a": 3}, progress=False), TypeError, "monitors"),
    "fit_rbm callback int": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, callback=3, progress=False), TypeError, "callback"),
    "fit_rbm progress string": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, progress="no"), TypeError, "progress"),
    "fit_rbm rbm type": (_call(rbmtut.fit_rbm, "rbm", BITS), TypeError, "rbm"),
    "fit_rbm strategy type": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, strategy="mirrored", progress=False), TypeError, "strategy"),
    "fit_rbm unknown setting": (_call(rbmtut.fit_rbm, RBM.copy(), BITS, momentun=0.9), TypeError, "momentun"),
    "train_epochs trainer type": (_call(rbmtut.train_epochs, RBM, BITS, epochs=1), TypeError, "trainer"),
    "train_epochs checkpoint string": (_call(rbmtut.train_epochs, RBMTrainer(RBM.copy()), BITS, epochs=1, checkpoint="ckpt/"), TypeError, "checkpoint"),
    "train_epochs shuffle_seed": (_call(rbmtut.train_epochs, RBMTrainer(RBM.copy()), BITS, epochs=1, batch_size=5, shuffle_seed=-1, progress=False), ValueError, "seed"),
    "checkpoint_manager directory": (_call(checkpoint_manager, RBMTrainer(RBM.copy()), 3), TypeError, "directory"),
    "checkpoint_manager max_to_keep": (_call(checkpoint_manager, RBMTrainer(RBM.copy()), "d", max_to_keep=0), ValueError, "max_to_keep"),
    "batch_dataset batch_size": (_call(batch_dataset, BITS, 0, 0), ValueError, "batch_size"),
    "epoch_orders empty": (_call(lambda: next(rbmtut.fitting.epoch_orders(0, 1, 0))), ValueError, "n_examples"),
    "default_monitors prefix": (_call(default_monitors, BITS, prefix=1), TypeError, "prefix"),
    # AIS and the likelihood estimators
    "ais n_runs": (_call(likelihood.ais_log_partition, RBM, n_runs=1), ValueError, "n_runs"),
    "ais n_runs float": (_call(likelihood.ais_log_partition, RBM, n_runs=10.0), TypeError, "n_runs"),
    "ais seed generator": (_call(likelihood.ais_log_partition, RBM, seed=tf.random.Generator.from_seed(0)), TypeError, "seed"),
    "ais betas": (_call(likelihood.ais_log_partition, RBM, betas=[0.0, 0.5]), ValueError, "betas"),
    "ais base_bias nan": (_call(likelihood.ais_log_partition, RBM, base_bias=np.full(6, np.nan)), ValueError, "base_bias"),
    "ais schedule kind": (_call(likelihood.ais_schedule, "geometric"), ValueError, "kind"),
    "ais schedule n": (_call(likelihood.ais_schedule, "linear", 0), ValueError, "n"),
    "ais schedule missing n": (_call(likelihood.ais_schedule, "linear"), ValueError, "n"),
    "base_rate pseudo_count": (_call(likelihood.base_rate_bias, BITS, pseudo_count=0), ValueError, "pseudo_count"),
    "pseudo batch_size": (_call(likelihood.pseudo_log_likelihood, RBM, BITS, batch_size=0), ValueError, "batch_size"),
    "pseudo stochastic string": (_call(likelihood.pseudo_log_likelihood, RBM, BITS, stochastic="yes"), TypeError, "stochastic"),
    "lower bound confidence": (_call(likelihood.ais_log_partition(RBM, n_runs=2, betas=[0, 1]).log_z_lower_bound, 1.5), ValueError, "confidence"),
    # Keras
    "RBMModel trainer type": (_call(RBMModel, RBM), TypeError, "trainer"),
    "RBMModel batch_size zero": (_call(RBMModel(RBMTrainer(RBM.copy())).fit, BITS, batch_size=0, verbose=0), ValueError, "batch_size"),
    "RBMModel epochs float": (_call(RBMModel(RBMTrainer(RBM.copy())).fit, BITS, epochs=1.5, verbose=0), TypeError, "epochs"),
    "RBMModel y": (_call(RBMModel(RBMTrainer(RBM.copy())).fit, BITS, BITS), ValueError, "y"),
    "RBMModel optimizer": (_call(RBMModel(RBMTrainer(RBM.copy())).compile, optimizer="adam"), ValueError, "optimizer"),
    "RBMModel schedule and callback": (
        _call(RBMModel(RBMTrainer(RBM.copy(), learning_rate=lambda e: 0.1)).fit, BITS, batch_size=5,
              verbose=0, callbacks=[keras.callbacks.LearningRateScheduler(lambda e, r: r)]),
        ValueError, "schedule"),
    # deep belief nets
    "DBN one size": (_call(rbmtut.DBN, [6]), ValueError, "2 layer sizes"),
    "DBN zero size": (_call(rbmtut.DBN, [6, 0]), ValueError, "layer size"),
    "DBN float size": (_call(rbmtut.DBN, [6, 4.0]), TypeError, "layer size"),
    "DBN not a list": (_call(rbmtut.DBN, 6), TypeError, "layers"),
    "DBN unchained": (_call(rbmtut.DBN, [BernoulliRBM(6, 4), BernoulliRBM(5, 3)]), ValueError, "chain"),
    "DBN sample k": (_call(DBN6.sample, 2, k=0), ValueError, "k"),
    "DBN sample n": (_call(DBN6.sample, -1), ValueError, "n"),
    "DBN sample seed": (_call(DBN6.sample, 2, seed="1"), TypeError, "seed"),
    "DBN down from_layer": (_call(DBN6.down, BITS[:, :4], from_layer=3), ValueError, "from_layer"),
    "DBN unroll code": (_call(DBN6.unroll, code="relu"), ValueError, "code"),
    "fit_dbn pass_up": (_call(fit_dbn, rbmtut.DBN([6, 5, 4]), BITS, pass_up="means", batch_size=5), ValueError, "pass_up"),
    "fit_dbn schedule": (_call(fit_dbn, rbmtut.DBN([6, 5, 4]), BITS, schedule="greedy", batch_size=5), ValueError, "schedule"),
    "fit_dbn per-layer length": (_call(fit_dbn, rbmtut.DBN([6, 5, 4]), BITS, epochs=[1, 1, 1], batch_size=5), ValueError, "epochs"),
    "fit_dbn epochs float": (_call(fit_dbn, rbmtut.DBN([6, 5, 4]), BITS, epochs=[1, 0.5], batch_size=5), TypeError, "epochs"),
    "fit_dbn batch_size large": (_call(fit_dbn, rbmtut.DBN([6, 5, 4]), BITS, batch_size=21), ValueError, "batch_size"),
    "fit_dbn simultaneous lists": (_call(fit_dbn, rbmtut.DBN([6, 5, 4]), BITS, epochs=[1, 2], schedule="simultaneous", batch_size=5), ValueError, "simultaneous"),
    "fit_dbn dbn type": (_call(fit_dbn, RBM, BITS), TypeError, "dbn"),
    "fit_dbn unknown setting": (_call(fit_dbn, rbmtut.DBN([6, 5, 4]), BITS, lr=0.1, batch_size=5), TypeError, "lr"),
    "UntiedDBN one RBM": (_call(UntiedDBN, [6, 4]), ValueError, "two RBMs"),
    "UntiedDBN from rbm": (_call(UntiedDBN.from_dbn, RBM), TypeError, "dbn"),
    "UpDownTrainer model": (_call(UpDownTrainer, DBN6), TypeError, "model"),
    "UpDownTrainer rate": (_call(UpDownTrainer, UntiedDBN.from_dbn(DBN6), learning_rate=0), ValueError, "learning_rate"),
    "UpDownTrainer k": (_call(UpDownTrainer, UntiedDBN.from_dbn(DBN6), k=0), ValueError, "k"),
    # autoencoders
    "Autoencoder one size": (_call(Autoencoder, [6]), ValueError, "sizes"),
    "Autoencoder size string": (_call(Autoencoder, "784-300"), TypeError, "sizes"),
    "Autoencoder activation": (_call(Autoencoder, [6, 3], activation="tanh"), ValueError, "activation"),
    "Autoencoder output": (_call(Autoencoder, [6, 3], output="softmax"), ValueError, "output"),
    "Autoencoder tied string": (_call(Autoencoder, [6, 3], tied="yes"), TypeError, "tied"),
    "Autoencoder depth": (_call(AE.encode, GREY, depth=3), ValueError, "depth"),
    "Autoencoder code_noise depth": (_call(AE.encode, GREY, depth=1, code_noise=np.zeros((20, 3))), ValueError, "code_noise"),
    "reconstruction_loss kind": (_call(reconstruction_loss, AE, GREY, kind="l1"), ValueError, "kind"),
    "reconstruction_loss ce linear": (_call(reconstruction_loss, LINEAR_AE, GREY, kind="cross_entropy"), ValueError, "cross_entropy"),
    "reconstruction_loss target nan": (_call(reconstruction_loss, AE, GREY, target=np.full((20, 6), np.nan)), ValueError, "target"),
    "fit_autoencoder optimizer string": (_call(fit_autoencoder, Autoencoder([6, 3]), GREY, epochs=1, optimizer="adam"), TypeError, "optimizer"),
    "fit_autoencoder sparsity_weight": (_call(fit_autoencoder, Autoencoder([6, 3]), GREY, epochs=1, sparsity_weight=-1.0), ValueError, "sparsity_weight"),
    "fit_autoencoder sparsity_target": (_call(fit_autoencoder, Autoencoder([6, 3]), GREY, epochs=1, sparsity_target=1.0), ValueError, "sparsity_target"),
    "fit_autoencoder penalty": (_call(fit_autoencoder, Autoencoder([6, 3]), GREY, epochs=1, sparsity_penalty="l1"), ValueError, "sparsity_penalty"),
    "fit_autoencoder corruption": (_call(fit_autoencoder, Autoencoder([6, 3]), GREY, epochs=1, corruption="masking"), TypeError, "corruption"),
    "fit_autoencoder code_noise rows": (_call(fit_autoencoder, Autoencoder([6, 3]), GREY, epochs=1, code_noise=np.zeros((19, 3)), progress=False), ValueError, "code_noise"),
    "fit_autoencoder code_noise nan": (_call(fit_autoencoder, Autoencoder([6, 3]), GREY, epochs=1, code_noise=np.full((20, 3), np.nan)), ValueError, "code_noise"),
    "fit_autoencoder variables": (_call(fit_autoencoder, Autoencoder([6, 3]), GREY, epochs=1, variables=[]), TypeError, "variables"),
    "fit_autoencoder model": (_call(fit_autoencoder, RBM, GREY, epochs=1), TypeError, "model"),
    "stack empty": (_call(stack, []), TypeError, "models"),
    "Corruption kind": (_call(regularizers.Corruption, "salt", 0.1), ValueError, "kind"),
    "Corruption level": (_call(regularizers.Corruption, "masking", 1.5), ValueError, "level"),
    "Corruption level string": (_call(regularizers.Corruption, "gaussian", "0.1"), TypeError, "level"),
    "gaussian stddev": (_call(regularizers.gaussian_corruption, GREY, -1.0, tf.random.Generator.from_seed(0)), ValueError, "stddev"),
    "masking rate": (_call(regularizers.masking_corruption, GREY, 1.0, tf.random.Generator.from_seed(0)), ValueError, "rate"),
    "kl target": (_call(regularizers.kl_sparsity_penalty, np.full(3, 0.5), 0.0), ValueError, "target"),
    # the VAE
    "VAE hidden int": (_call(VAE, 6, hidden=5), TypeError, "hidden"),
    "VAE hidden zero": (_call(VAE, 6, hidden=(0,)), ValueError, "hidden"),
    "VAE n_latent": (_call(VAE, 6, n_latent=0), ValueError, "n_latent"),
    "VAE activation": (_call(VAE, 6, activation="tanh"), ValueError, "activation"),
    "VAE sample n": (_call(VAE6.sample, -1), ValueError, "n"),
    "VAE sample generator": (_call(VAE6.sample, 3, seed=tf.random.Generator.from_seed(0)), TypeError, "seed"),
    "VAE sample positional rng": (lambda: VAE6.sample(3, tf.random.Generator.from_seed(0)), TypeError, "positional"),
    "VAE iwae n_samples": (_call(VAE6.iwae_bound, BITS, 0, tf.random.Generator.from_seed(0)), ValueError, "n_samples"),
    "VAE decode_logits width": (_call(VAE6.decode_logits, np.zeros((2, 3))), ValueError, "z"),
    "estimate sample_counts": (_call(estimate_log_likelihood, VAE6, BITS, n_samples=10, sample_counts=[20], progress=False), ValueError, "sample_counts"),
    "estimate model": (_call(estimate_log_likelihood, AE, BITS), TypeError, "model"),
    "fit_vae optimizer string": (_call(fit_vae, VAE(6, hidden=(5,), n_latent=2), GREY, epochs=1, optimizer="adam"), TypeError, "optimizer"),
    "fit_vae binarize string": (_call(fit_vae, VAE(6, hidden=(5,), n_latent=2), GREY, epochs=1, binarize="yes"), TypeError, "binarize"),
    "fit_vae grey without binarize": (_call(fit_vae, VAE(6, hidden=(5,), n_latent=2), GREY, epochs=1, binarize=False), ValueError, "binary"),
    "LogLikelihoodEstimate unknown count": (
        _call(lambda: estimate_log_likelihood(VAE6, BITS, n_samples=3, progress=False).mean(7)), ValueError, "n_samples"),
    # PCA and hashing
    "pca n_components": (_call(pca.pca, GREY, 0), ValueError, "n_components"),
    "pca n_components float": (_call(pca.pca, GREY, 2.0), TypeError, "n_components"),
    "pca one row": (_call(pca.pca, GREY[:1], 1), ValueError, "rows"),
    "principal_angles rows": (_call(pca.principal_angles, np.eye(3), np.eye(4)), ValueError, "rows"),
    "pack_bits grey": (_call(hashing.pack_bits, GREY), ValueError, "bits"),
    "pack_bits 1-D": (_call(hashing.pack_bits, np.ones(4, bool)), ValueError, "bits"),
    "binarize_codes threshold": (_call(hashing.binarize_codes, GREY, threshold=float("nan")), ValueError, "threshold"),
    "binarize_codes threshold string": (_call(hashing.binarize_codes, GREY, threshold="0.5"), TypeError, "threshold"),
    "unpack_bits type": (_call(hashing.unpack_bits, BITS), TypeError, "codes"),
    "hamming_distances type": (_call(hashing.hamming_distances, BITS, CODES), TypeError, "queries"),
    "hamming_distances lengths": (_call(hashing.hamming_distances, hashing.pack_bits(BITS[:, :5] > 0), CODES), ValueError, "bits"),
    "hamming_knn n_neighbors": (_call(hashing.hamming_knn, CODES, CODES, 0), ValueError, "n_neighbors"),
    "hamming_knn too many": (_call(hashing.hamming_knn, CODES, CODES, 21), ValueError, "n_neighbors"),
    "hamming_knn database type": (_call(hashing.hamming_knn, CODES, BITS, 2), TypeError, "database"),
    "hamming block_size": (_call(hashing.hamming_distances, CODES, CODES, block_size=0), ValueError, "block_size"),
    "HammingTable type": (_call(hashing.HammingTable, BITS), TypeError, "database"),
    "HammingTable radius": (_call(hashing.HammingTable(CODES).lookup, CODES[0], -1), ValueError, "radius"),
    "HammingTable two queries": (_call(hashing.HammingTable(CODES).lookup, CODES[:2], 1), ValueError, "query"),
    "precision_at n": (_call(hashing.precision_at, np.zeros((2, 5), int), np.ones((2, 5), bool), 0), ValueError, "n"),
    "average_precision float distances": (_call(hashing.average_precision, np.zeros((2, 5)), np.ones((2, 5), bool)), ValueError, "distances"),
    "average_precision relevant shape": (_call(hashing.average_precision, np.zeros((2, 5), int), np.ones((2, 4), bool)), ValueError, "relevant"),
    "radius_curves n_bits": (_call(hashing.radius_curves, np.zeros((2, 5), int) + 3, np.ones((2, 5), bool), 2), ValueError, "n_bits"),
    "evaluate labels": (_call(hashing.evaluate_retrieval, CODES, CODES, LABELS[:3], LABELS, cutoffs=(5,)), ValueError, "query_labels"),
    "evaluate cutoff": (_call(hashing.evaluate_retrieval, CODES, CODES, LABELS, LABELS, cutoffs=(50,)), ValueError, "cutoff"),
    "evaluate block_size": (_call(hashing.evaluate_retrieval, CODES, CODES, LABELS, LABELS, cutoffs=(5,), block_size=0), ValueError, "block_size"),
    "fit_lsh n_bits": (_call(hashing.fit_lsh, GREY, 0), ValueError, "n_bits"),
    "fit_lsh seed": (_call(hashing.fit_lsh, GREY, 4, seed=-1), ValueError, "seed"),
    "fit_lsh bool data": (_call(hashing.fit_lsh, BITS > 0.5, 4), TypeError, "x"),
    "fit_itq n_iter": (_call(hashing.fit_itq, GREY, 2, n_iter=-1), ValueError, "n_iter"),
    "fit_itq pca_fit type": (_call(hashing.fit_itq, GREY, 2, pca_fit="pca"), TypeError, "pca_fit"),
    "fit_pca_sign n_bits too many": (_call(hashing.fit_pca_sign, GREY, 7), ValueError, "n_bits"),
    # classifiers, features, plotting, saving, the book's helpers
    "SVC gamma": (_call(RBFKernelSVC(gamma=-1.0).fit, GREY, LABELS), ValueError, "gamma"),
    "SVC batch_size": (_call(RBFKernelSVC(batch_size=0).fit, GREY, LABELS), ValueError, "batch_size"),
    "keras_classifier model": (_call(keras_classifier, RBM, 3), TypeError, "model"),
    "keras_classifier n_classes": (_call(keras_classifier, DBN6, 1), ValueError, "n_classes"),
    "keras_classifier pretrained": (_call(keras_classifier, DBN6, 3, pretrained="yes"), TypeError, "pretrained"),
    "RBMFeatures out of range": (_call(RBMFeatures(3, epochs=1).fit, 2 * GREY), ValueError, "[0, 1]"),
    "DBNFeatures layers int": (_call(DBNFeatures(layers=5, epochs=1).fit, GREY), TypeError, "layers"),
    "tile_images n_cols zero": (_call(plotting.tile_images, GREY[:, :4], n_cols=0), ValueError, "n_cols"),
    "tile_images shape": (_call(plotting.tile_images, GREY, shape=(2, 2)), ValueError, "shape"),
    "tile_images normalize": (_call(plotting.tile_images, GREY[:, :4], normalize="max"), ValueError, "normalize"),
    "tile_images empty": (_call(plotting.tile_images, np.zeros((0, 4))), ValueError, "images"),
    "tile_images nan": (_call(plotting.tile_images, np.full((2, 4), np.nan)), ValueError, "NaN"),
    "load_model missing": (_call(rbmtut.load_model, "/nonexistent/model.npz"), ValueError, "model file"),
    "to_unit_interval int16": (_call(data.to_unit_interval, np.zeros((2, 4), np.int16)), TypeError, "uint8"),
    "binarize threshold": (_call(data.binarize, GREY, 1.5), ValueError, "threshold"),
    "binarize_stochastic seed": (_call(data.binarize_stochastic, GREY, -1), ValueError, "seed"),
    "binarize_stochastic seed float": (_call(data.binarize_stochastic, GREY, 0.5), TypeError, "seed"),
    "bars_and_stripes size": (_call(data.bars_and_stripes, 0), ValueError, "size"),
    "batches batch_size": (_call(data.batches, GREY, 0), ValueError, "batch_size"),
    "load_mnist timeout": (_call(data.load_mnist, timeout=0), ValueError, "timeout"),
    "setup_notebook seed": (_call(book.setup_notebook, -1, quiet=True), ValueError, "seed"),
    "setup_notebook seed type": (_call(book.setup_notebook, "0", quiet=True), TypeError, "seed"),
    "glue value": (_call(book.glue, "name", [1, 2]), TypeError, "glue"),
    "check_quoted tolerance": (_call(book.check_quoted, {"a": (1.0, 1.0, -1.0)}), ValueError, "tolerance"),
    "max_difference lengths": (_call(book.max_difference, [np.zeros(2)], []), ValueError, "equal length"),
    "show_source builtin": (_call(book.show_source, len), ValueError, "source"),
    "nn activation": (_call(nn.activation, "tanh"), ValueError, "activation"),
}


@pytest.mark.parametrize("fn, error, text", [pytest.param(*case, id=name)
                                               for name, case in ARGUMENT_CASES.items()])
def test_bad_arguments_are_refused_clearly(fn, error, text):
    with pytest.raises(error) as caught:
        fn()
    assert text in str(caught.value), str(caught.value)


def test_the_matrix_is_large():
    assert len(DATA_CASES) + len(ARGUMENT_CASES) >= 600


# --- legal input gives the right answer, and nothing comes back NaN ---------------------

def test_float64_data_reach_a_float32_model_exactly():
    x64 = BITS.astype(np.float64)
    for method in ("hidden_probs", "free_energy", "hidden_logits"):
        np.testing.assert_array_equal(getattr(RBM, method)(x64).numpy(),
                                      getattr(RBM, method)(BITS).numpy())
    np.testing.assert_array_equal(RBM.visible_probs(RBM.hidden_probs(x64).numpy().astype(np.float64)),
                                  RBM.visible_probs(RBM.hidden_probs(BITS)))
    rng = tf.random.Generator.from_seed(3)
    chain = gibbs.gibbs_chain(RBM, x64, 2, rng).v.numpy()
    again = gibbs.gibbs_chain(RBM, BITS, 2, tf.random.Generator.from_seed(3)).v.numpy()
    np.testing.assert_array_equal(chain, again)
    assert np.isfinite(float(likelihood.pseudo_log_likelihood(RBM, x64)))
    assert np.isfinite(float(likelihood.reconstruction_cross_entropy(RBM, x64)))


def test_every_fit_returns_one_history_type_without_nan():
    histories = [
        rbmtut.fit_rbm(RBM.copy(), BITS, epochs=2, batch_size=5, progress=False),
        rbmtut.fit_rbm(RBM.copy(), BITS, epochs=2, batch_size=5, method="exact", progress=False),
        rbmtut.fit_rbm(RBM.copy(), BITS, epochs=2, batch_size=5, method="pcd", progress=False),
        fit_dbn(rbmtut.DBN([6, 5, 4]), BITS, epochs=2, batch_size=5, progress=False),
        fit_updown(UntiedDBN.from_dbn(DBN6), BITS, epochs=2, batch_size=5, progress=False),
        fit_autoencoder(Autoencoder([6, 3]), GREY, epochs=2, batch_size=5, progress=False),
        fit_vae(VAE(6, hidden=(5,), n_latent=2), GREY, epochs=2, batch_size=5, progress=False),
    ]
    assert all(type(h) is rbmtut.History for h in histories)
    for history in histories:
        for part in [history] + history.layers:
            for key, values in part.metrics.items():
                assert len(values) == 2 and np.all(np.isfinite(values)), (key, values)
    assert "negative_log_likelihood" in histories[1].keys()  # the exact method's real objective


def test_a_batch_of_one_row_trains_and_stays_finite():
    rbm = RBM.copy()
    trainer = RBMTrainer(rbm, method="pcd", n_chains=1)
    assert np.isfinite(float(trainer.step(BITS[:1])))
    assert all(np.all(np.isfinite(p.numpy())) for p in rbm.parameters)


def test_sample_takes_a_keyword_seed_on_every_generative_model():
    for model in (RBM, DBN6, UntiedDBN.from_dbn(DBN6), VAE6):
        a, b = model.sample(3, seed=4).numpy(), model.sample(3, seed=4).numpy()
        np.testing.assert_array_equal(a, b)
        assert a.shape == (3, 6) and np.all((a >= 0) & (a <= 1))
        assert not np.array_equal(a, model.sample(3, seed=5).numpy())
