"""Learning an RBM: the CD/PCD gradient, the surrogate loss and the trainer.

The log-likelihood gradient of an RBM is a difference of two expectations,

    d log p(v) / d theta = -<dF/dtheta>_data + <dF/dtheta>_model,

and for the weights ``-dF/dW = v p(h|v)^T``.  CD-k estimates the model term
with a k-step Gibbs chain started at the data; PCD-k continues persistent
chains instead (Tieleman 2008).  Both are the gradient of the *surrogate*

    L = mean F(v_data) - mean F(stop_gradient(v_model)),

which is not a log-likelihood: its value says little, and only its first
derivative is meaningful.  :class:`RBMTrainer` applies the estimate either
as the classic momentum-SGD rule on the analytic statistics (chapter 2,
``02_gibbs_cd_pcd``) or through ``cd_loss``, autodiff and a Keras optimizer
(chapter 3, ``03_tf2_surrogate_loss``); :class:`LearningRule` holds the
settings, once for every entry point.  The epoch loop is
:func:`rbmtut.fitting.train_epochs`; :mod:`rbmtut.distribute` builds a
multi-device trainer on this one.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from ._loop import Trainer
from ._validation import check_instance
from .centering import Offsets
from .exact import exact_log_partition, exact_model_statistics
from .fast_weights import FastWeights
from .gibbs import PersistentChains, gibbs_chain
from .learning_rule import MODELS, PERSISTENT_METHODS, LearningRule, scheduled_value
from .rbm import BernoulliRBM
from .tempering import TemperedChains

__all__ = ["cd_loss", "Gradients", "cd_gradients", "mean_free_energy", "LearningRule",
           "Update", "RBMTrainer"]


def cd_loss(rbm: BernoulliRBM, v_data, v_model) -> tf.Tensor:
    """The CD/PCD surrogate ``mean F(v_data) - mean F(stop_gradient(v_model))``.

    Its gradient with respect to ``(W, b, c)`` is the CD (or PCD) estimate of
    the negative log-likelihood gradient.  Its *value* is not a likelihood.

    Args:
        rbm: the model.
        v_data: a data batch (n, n_visible).
        v_model: the chain ends (m, n_visible); gradients do not flow into them.

    Returns:
        Scalar tensor.
    """
    return tf.reduce_mean(rbm.free_energy(v_data)) - tf.reduce_mean(
        rbm.free_energy(tf.stop_gradient(v_model))
    )


def mean_free_energy(rbm: BernoulliRBM, v, hidden_logits) -> tf.Tensor:
    """``mean F(v)`` given ``hidden_logits = v W + c`` (saves a matrix product)."""
    return -tf.reduce_mean(
        tf.linalg.matvec(v, rbm.b)
        + tf.reduce_sum(tf.nn.softplus(hidden_logits), axis=-1)
    )


class Gradients(NamedTuple):
    """Gradients of the surrogate loss: ``dW`` (n_visible, n_hidden), ``db``, ``dc``."""

    dW: tf.Tensor
    db: tf.Tensor
    dc: tf.Tensor


def cd_gradients(rbm: BernoulliRBM, v_data, h_data, v_model, h_model) -> Gradients:
    """Analytic gradient of :func:`cd_loss` from the sufficient statistics.

    ``dL/dW = -(<v h^T>_data - <v h^T>_model)``, ``dL/db = -(<v>_data -
    <v>_model)``, ``dL/dc = -(<h>_data - <h>_model)``, where ``h`` are the
    hidden probabilities ``p(h|v)`` (Rao-Blackwellised statistics).

    Args:
        v_data: data batch (n, n_visible); h_data: ``p(h|v_data)`` (n, n_hidden).
        v_model: chain ends (m, n_visible); h_model: ``p(h|v_model)`` (m, n_hidden).

    Returns:
        :class:`Gradients` (descend along them to learn).
    """
    v_data = rbm.visible_input(v_data, "v_data")
    v_model = rbm.visible_input(v_model, "v_model")
    h_data = rbm.hidden_input(h_data, "h_data")
    h_model = rbm.hidden_input(h_model, "h_model")
    # Multiply by reciprocals: a graph would constant-fold "x / n" into
    # "x * (1/n)", and eager and compiled runs must round identically.
    inv_n = 1.0 / tf.cast(tf.shape(v_data)[0], rbm.dtype)
    inv_m = 1.0 / tf.cast(tf.shape(v_model)[0], rbm.dtype)
    # Both outer products as one matrix product over the stacked rows:
    # [v_model; v_data]^T [h_model / m; -h_data / n] (no pass over W to subtract).
    dW = tf.matmul(tf.concat([v_model, v_data], 0),
                   tf.concat([h_model * inv_m, h_data * -inv_n], 0), transpose_a=True)
    db = tf.reduce_mean(v_model, axis=0) - tf.reduce_mean(v_data, axis=0)
    dc = tf.reduce_mean(h_model, axis=0) - tf.reduce_mean(h_data, axis=0)
    return Gradients(dW, db, dc)


class Update(NamedTuple):
    """What one update returns, both from before it.

    Attributes:
        loss: the surrogate (CD/PCD) or the exact negative log-likelihood
            (``method="exact"``) of the batch, a scalar.
        hidden_probs: the positive phase's ``p(h | v_data)`` (n, n_hidden),
            which a stack trained all at once passes to the next layer.
    """

    loss: tf.Tensor
    hidden_probs: tf.Tensor


class RBMTrainer(Trainer):
    """Learns an RBM a mini-batch at a time: CD-k, PCD-k, PT, FPCD or exact gradient.

    Two ways to apply the gradient estimate (see :class:`LearningRule`):

    - built in (the default): momentum SGD on the analytic statistics of
      :func:`cd_gradients`, ``u <- momentum * u - lr * (g + weight_decay * W)``,
      ``theta <- theta + u`` — the classic rule of chapter 2;
    - ``optimizer``: autodiff of ``cd_loss + weight_decay / 2 * |W|^2`` and a
      Keras optimizer on the raw variables (chapter 3), optionally with a
      second optimizer, e.g. with a smaller learning rate, for the biases.

    All state — the model, velocities or optimizer slots, persistent chains,
    the random generator and the epoch counter — is tracked, so
    :func:`rbmtut.fitting.checkpoint_manager` saves the whole run, and a fresh
    trainer built with the same arguments resumes it exactly.  Train it with
    :func:`rbmtut.fitting.train_epochs`, or take single steps with :meth:`step`.

    Args:
        rbm: the model to train (updated in place).
        rule: a :class:`LearningRule` (default ``LearningRule()``: CD-1, rate
            0.05, momentum 0.5).
        seed: seeds the trainer's ``tf.random.Generator`` (the Gibbs noise,
            the PCD chains' start) and the shuffles of ``train_epochs``.
        compile: run updates as ``tf.function`` s (same numbers, faster).
        jit_compile: also compile them with XLA (needs ``compile``; often
            slower on CPU, and rounding may differ from the other modes).
        name: module name.
        **rule_fields: fields of :class:`LearningRule` that replace the
            rule's, e.g. ``RBMTrainer(rbm, method="pcd", k=5, n_chains=100)``.
    """

    #: The multi-device trainer's strategy (None: one device).
    strategy = None

    def __init__(self, rbm: BernoulliRBM, rule: LearningRule | None = None, *,
                 seed: int = 0, compile: bool = True, jit_compile: bool = False,
                 name: str | None = None, **rule_fields):
        check_instance(rbm, "rbm", MODELS)
        rule = LearningRule.build(rule, **rule_fields).for_model(rbm)
        self.analytic = isinstance(rbm, BernoulliRBM)  # else autodiff (Gaussian units)
        strategy = self._check_devices(rbm, rule)
        super().__init__(seed=seed, compile=compile, jit_compile=jit_compile, name=name)
        self.rbm, self.rule, self.strategy = rbm, rule, strategy
        self.method, self.k = rule.method, rule.k
        self.metric_names = (("negative_log_likelihood",) if rule.method == "exact"
                             else ("surrogate",))
        dtype = rbm.dtype
        self.weight_decay = tf.Variable(rule.weight_decay, dtype=dtype, trainable=False)
        self.optimizer, self.bias_optimizer = rule.optimizer, rule.bias_optimizer
        # The built-in rule's state; a Keras optimizer keeps its own instead.
        self.learning_rate_schedule = self.learning_rate = self.momentum = None
        self.momentum_schedule = rule.momentum if callable(rule.momentum) else None
        self.velocities = []
        if rule.optimizer is None:
            rate = rule.learning_rate
            self.learning_rate_schedule = rate if callable(rate) else None
            self.learning_rate = tf.Variable(rule.first_learning_rate(), dtype=dtype,
                                             trainable=False)
            self.momentum = tf.Variable(rule.momentum_value, dtype=dtype,
                                        trainable=False)
            self.velocities = [
                tf.Variable(tf.zeros_like(p), trainable=False,
                            name=f"velocity_{p.name.split(':')[0]}")
                for p in rbm.parameters
            ]
        else:
            rule.build_optimizers(rbm)
        self.offsets = (Offsets(rbm.n_visible, rbm.n_hidden, rule.centering, dtype,
                                name="offsets") if rule.centering else None)
        self.settings = tf.Variable(rule.fingerprint(rbm, self.seed), trainable=False,
                                    name="settings")
        self.chains: PersistentChains | TemperedChains | None = None
        self.fast = None
        if rule.method in PERSISTENT_METHODS:  # fantasy particles start from noise
            v0 = rbm.noise(tf.constant(rule.n_chains), self.rng)
        if rule.method == "pcd":  # with hidden states (see PersistentChains): five
            # matrix products per PCD-1 update, not six
            self.chains = PersistentChains(v0, rbm.sample_hidden(v0, self.rng),
                                           name="chains")
        elif rule.method == "pt":
            self.chains = TemperedChains(v0, 10 if rule.ladder is None else rule.ladder,
                                         name="chains")
        elif rule.method == "fpcd":  # visible states only, sampled with fast weights
            self.chains = PersistentChains(v0, name="chains")
            self.fast = FastWeights(rbm, rule.fast_learning_rate
                                    or rule.first_learning_rate(), name="fast")

    def _check_devices(self, rbm, rule):
        """Refuse a strategy scope: several devices need
        rbmtut.distribute.DistributedRBMTrainer.
        """
        if (tf.distribute.has_strategy()
                or isinstance(rbm.W, tf.distribute.DistributedValues)):
            raise ValueError(
                "RBMTrainer runs on one device; to train under a tf.distribute "
                "strategy, build rbmtut.distribute.DistributedRBMTrainer (with the "
                "RBM) inside its scope, or pass strategy= to fit_rbm.")
        return None

    @property
    def model(self) -> BernoulliRBM:
        """The RBM being trained."""
        return self.rbm

    def prepare(self, x, name: str = "x") -> tf.Tensor:
        """Training data (N, n_visible) as the model's ``visible_input`` takes
        them, checked and in the model's dtype."""
        return self.rbm.visible_input(x, name)

    # --- one update ---------------------------------------------------------------

    def negative_phase(self, v_data, h_data) -> tuple[tf.Tensor, tf.Tensor]:
        """The chain ends ``v_model`` and their hidden inputs ``c + v_model W``: k
        steps from the data (CD) or the persistent chains (PCD, PT, FPCD)."""
        if self.method == "pcd":
            state = self.chains.advance(self.rbm, self.k, self.rng)
            return state.v, state.hidden_logits
        if self.method in ("pt", "fpcd"):  # replica 0 / chains with fast weights
            model = self.fast.sampling_model(self.rbm) if self.fast else self.rbm
            v_model = self.chains.advance(model, self.k, self.rng).v
            return v_model, self.rbm.hidden_logits(v_model)  # regular parameters
        # The first hidden sample reuses the positive-phase probabilities.
        h0 = self.rbm.draw_hidden(h_data, self.rng)
        v_model = gibbs_chain(self.rbm, v_data, self.k, self.rng, h0=h0).v
        return v_model, self.rbm.hidden_logits(v_model)

    def update(self, v_data) -> Update:
        """One update on the batch ``v_data`` (n, n_visible): the positive phase,
        the negative phase, then the gradient: by hand from the statistics (the
        built-in rule), or by autodiff of the surrogate (with a Keras optimizer,
        and for Gaussian units)."""
        rbm = self.rbm
        a_data = rbm.hidden_logits(v_data)  # positive phase
        h_data = rbm.hidden_mean(a_data)
        v_model, a_model = self.negative_phase(v_data, h_data)
        if self.optimizer is not None or not self.analytic:  # autodiff (chapter 3)
            with tf.GradientTape() as tape:
                surrogate = cd_loss(rbm, v_data, v_model)
                penalty = 0.5 * self.weight_decay * tf.reduce_sum(tf.square(rbm.W))
                loss = surrogate + penalty
            self.apply_gradients(tape.gradient(loss, rbm.parameters))
            return Update(surrogate, h_data)
        h_model = tf.sigmoid(a_model)  # chapter 2: the statistics by hand
        # The surrogate's value, from the logits already computed (diagnostic only).
        surrogate = (mean_free_energy(rbm, v_data, a_data)
                     - mean_free_energy(rbm, v_model, a_model))
        self.descend(cd_gradients(rbm, v_data, h_data, v_model, h_model),
                     v_data, h_data)
        return Update(surrogate, h_data)

    def exact_update(self, v_data) -> Update:
        """One update along the exact log-likelihood gradient
        (tiny models: enumeration).
        """
        rbm = self.rbm
        h_data = tf.sigmoid(rbm.hidden_logits(v_data))
        log_z = exact_log_partition(rbm)
        vh, v_mean, h_mean = exact_model_statistics(rbm, log_z=log_z)
        nll = tf.reduce_mean(rbm.free_energy(v_data)) + log_z
        inv_n = 1.0 / tf.cast(tf.shape(v_data)[0], rbm.dtype)
        self.descend(Gradients(
            vh - tf.matmul(v_data, h_data, transpose_a=True) * inv_n,
            v_mean - tf.reduce_mean(v_data, axis=0),
            h_mean - tf.reduce_mean(h_data, axis=0),
        ), v_data, h_data)
        return Update(nll, h_data)

    def update_step(self, v_data) -> tf.Tensor:
        """The update of this trainer's method (:meth:`update` or
        :meth:`exact_update`); its loss.
        """
        if self.method == "exact":
            return self.exact_update(v_data).loss
        return self.update(v_data).loss

    def descend(self, grads: Gradients, v_data, h_data) -> None:
        """The built-in rule's step along the plain gradient ``grads``: centered if
        the rule centers (the offsets then follow the batch), plus weight decay;
        FPCD's fast weights take the same step."""
        if self.offsets is not None:
            grads = self.offsets.center(grads)
        self.apply_gradients(self.with_weight_decay(grads))
        if self.offsets is not None:
            self.offsets.follow(v_data, h_data)
        if self.fast is not None:
            self.fast.step(grads)

    def with_weight_decay(self, grads: Gradients) -> Gradients:
        """``grads`` plus the gradient of the L2 penalty
        ``weight_decay / 2 * |W|^2``.
        """
        if self.rule.weight_decay == 0:  # skip a pass over W
            return grads
        return Gradients(grads.dW + self.weight_decay * self.rbm.W, grads.db, grads.dc)

    def apply_gradients(self, grads) -> None:
        """Descend along the gradients of ``rbm.parameters`` (``(dW, db, dc)``,
        then any others): the momentum rule, or the Keras optimizer(s).
        """
        params = self.rbm.parameters
        if self.optimizer is None and self.strategy is not None:  # mirrored
            for param, velocity, grad in zip(params, self.velocities, grads):
                velocity.assign(self.momentum * velocity - self.learning_rate * grad)
                param.assign_add(velocity)
        elif self.optimizer is None:
            # u <- momentum * u - lr * g; theta <- theta + u, as one fused kernel
            # per variable (one pass over W instead of four).
            for param, velocity, grad in zip(params, self.velocities, grads):
                tf.raw_ops.ResourceApplyKerasMomentum(
                    var=param.handle, accum=velocity.handle, lr=self.learning_rate,
                    grad=grad, momentum=self.momentum, use_locking=False)
        elif self.bias_optimizer is None:
            self.optimizer.apply_gradients(zip(grads, params))
        else:
            self.optimizer.apply_gradients([(grads[0], params[0])])
            self.bias_optimizer.apply_gradients(zip(grads[1:], params[1:]))

    # --- epochs ---------------------------------------------------------------------

    def begin_epoch(self) -> None:
        """Set the coming epoch's learning rate and momentum from their schedules."""
        epoch = int(self.completed_epochs.numpy())
        for schedule, variable, what in (
                (self.learning_rate_schedule, self.learning_rate, "learning-rate"),
                (self.momentum_schedule, self.momentum, "momentum")):
            if schedule is not None:
                variable.assign(scheduled_value(schedule, epoch, what))
