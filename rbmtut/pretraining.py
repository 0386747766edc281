"""Greedy layer-wise pretraining of a deep belief net (Hinton, Osindero & Teh 2006).

RBM 0 learns the data, RBM ``l + 1`` learns what RBM ``l`` passes up.  Each
RBM is trained in place by an :class:`~rbmtut.learning.RBMTrainer` with its own
:class:`~rbmtut.learning_rule.LearningRule`, through the same epoch loop as
every other model.  Chapter 4 (``04_stacked_pretraining``) compares what to
pass up and whether to train the layers one after another or all at once.
"""

from __future__ import annotations

import time

import tensorflow as tf
from tqdm.auto import tqdm

from ._loop import History, Trainer, derive_seeds, train_epochs
from ._validation import check_bool, check_choice, check_instance, check_int
from .dbn import DBN
from .fitting import default_monitors
from .learning import RBMTrainer
from .learning_rule import PERSISTENT_METHODS, LearningRule
from .nn import sample_bernoulli

__all__ = ["PASS_UP_OPTIONS", "SCHEDULES", "StackTrainer", "fit_dbn"]

#: What greedy pretraining feeds to the next layer (see :func:`fit_dbn`).
PASS_UP_OPTIONS = ("probs", "samples", "samples_to_top")

#: How :func:`fit_dbn` orders the layers' training.
SCHEDULES = ("layerwise", "simultaneous")


def _per_layer(value, name: str, n_rbms: int) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != n_rbms:
            raise ValueError(
                f"{name} has {len(value)} entries for {n_rbms} RBMs; give one value "
                "or one per RBM.")
        return list(value)
    return [value] * n_rbms


class StackTrainer(Trainer):
    """Trains every RBM of a stack in one loop: each batch goes up, each layer
    takes one update.

    The layer above learns from the output of the layer below *before* that
    layer's update (the positive phase's hidden probabilities, computed once),
    so all layers train while their inputs are still changing.  Layer 0 sees
    exactly what it would see alone.  Shuffles follow layer 0's seed.

    Args:
        trainers: one :class:`RBMTrainer` per RBM, bottom first.
        sample_seeds: per layer below the top, the seed of the generator that
            samples its output for the next layer (None: pass probabilities).
    """

    def __init__(self, trainers, sample_seeds):
        super().__init__(seed=trainers[0].seed)
        self.trainers = list(trainers)
        self.metric_names = tuple(f"surrogate_{l}" for l in range(len(trainers)))
        self.samplers = [None if s is None else tf.random.Generator.from_seed(s)
                         for s in sample_seeds]

    @property
    def model(self) -> DBN:
        """The stack being trained."""
        return DBN([t.rbm for t in self.trainers])

    def prepare(self, x, name: str = "x"):
        """The training data of layer 0."""
        return self.trainers[0].prepare(x, name)

    def update_step(self, batch) -> tf.Tensor:
        """One update of every layer; returns their losses, (L,)."""
        losses = []
        for trainer, sampler in zip(self.trainers, self.samplers):
            update = (trainer.exact_update if trainer.method == "exact"
                      else trainer.update)
            loss, out = update(batch)
            losses.append(loss)
            batch = out if sampler is None else sample_bernoulli(out, sampler)
        return tf.stack(losses)

    def begin_epoch(self) -> None:
        for trainer in self.trainers:
            trainer.begin_epoch()

    def end_epoch(self) -> None:
        super().end_epoch()
        for trainer in self.trainers:
            trainer.end_epoch()


def fit_dbn(dbn: DBN, x, rule: LearningRule | list | None = None, *, epochs=10,
            batch_size=100, pass_up: str = "probs", schedule: str = "layerwise",
            seed: int = 0, monitors=None, progress: bool = True,
            **rule_fields) -> History:
    """Greedy pretraining: RBM 0 learns ``x``, RBM l+1 learns RBM l's output.

    Every setting — ``rule``, each field of it given by keyword, ``epochs``,
    ``batch_size`` and ``monitors`` — is one value for all layers or a list
    with one value per RBM.

    Two schedules:

    - ``"layerwise"`` (Hinton et al. 2006): train RBM 0 to the end, pass the
      whole training set up through it once, train RBM 1 on the result, and
      so on; each layer shuffles with its own seed.
    - ``"simultaneous"``: every batch goes up the stack and each RBM takes
      one update on what the layer below passes it *now* (:class:`StackTrainer`).
      Layer 0 trains exactly as it does layer-wise; ``epochs`` and
      ``batch_size`` must be the same for every layer.

    Args:
        dbn: the stack, trained in place.
        x: training data (N, n_0) in [0, 1].
        rule: a :class:`~rbmtut.learning_rule.LearningRule` (default: CD-1,
            rate 0.05, momentum 0.5), or one per RBM; ``n_chains`` defaults
            to the batch size for PCD.
        epochs, batch_size: as for :func:`rbmtut.fit_rbm`.
        pass_up: what the next layer is trained on: ``"probs"`` (the hidden
            probabilities ``p(h | input)``), ``"samples"`` (binary samples of
            them) or ``"samples_to_top"`` (probabilities, except binary
            samples into the top RBM).
        schedule: ``"layerwise"`` or ``"simultaneous"``.
        seed: one seed; layer l trains with ``derive_seeds(seed, 2L)[l]`` and
            samples its output with ``derive_seeds(seed, 2L)[L + l]``.
        monitors: per layer, name -> ``f(rbm) -> number``; default (None):
            the reconstruction cross-entropy of each layer's training data
            (:func:`rbmtut.fitting.default_monitors` without the costlier
            pseudo-likelihood; key ``training_reconstruction``; under
            ``"simultaneous"`` layer 0's only, the one layer whose data stay
            fixed); ``{}`` for none.
        progress: progress bars over layers and epochs.
        **rule_fields: fields of ``LearningRule`` (one value, or one per RBM).

    Returns:
        A :class:`~rbmtut.History` whose ``layers`` are the RBMs' histories
        (each with ``wall_seconds``: its training time, None under the
        simultaneous schedule), with ``info["seeds"]`` (each layer's trainer
        seed) and ``info["sample_seeds"]`` (the seed that sampled each layer's
        output, None where probabilities were passed up).
    """
    check_instance(dbn, "dbn", DBN)
    data = dbn.layer_input(x, name="x").numpy()
    check_choice(pass_up, "pass_up", PASS_UP_OPTIONS)
    check_choice(schedule, "schedule", SCHEDULES)
    progress = check_bool(progress, "progress")
    n_rbms, n_rows = len(dbn.rbms), len(data)
    rules = _per_layer(rule, "rule", n_rbms)
    fields = {key: _per_layer(value, key, n_rbms) for key, value in rule_fields.items()}
    settings = {key: _per_layer(value, key, n_rbms)
                for key, value in (("epochs", epochs), ("batch_size", batch_size),
                                   ("monitors", monitors))}
    # Fail before any training rather than after hours of it.
    for layer in range(n_rbms):
        check_int(settings["epochs"][layer], "epochs", low=0)
        check_int(settings["batch_size"][layer], "batch_size", low=1, high=n_rows)
    if schedule == "simultaneous" and any(
            len(set(settings[key])) > 1 for key in ("epochs", "batch_size")):
        raise ValueError(
            "schedule='simultaneous' trains every layer on the same batches; "
            "give one value for epochs and for batch_size.")
    layer_rules = []
    for layer in range(n_rbms):
        layer_fields = {k: v[layer] for k, v in fields.items()}
        layer_rule = LearningRule.build(rules[layer], **layer_fields)
        if layer_rule.method in PERSISTENT_METHODS and layer_rule.n_chains is None:
            layer_rule = LearningRule.build(layer_rule,
                                            n_chains=settings["batch_size"][layer])
        layer_rules.append(layer_rule)
    seeds = derive_seeds(seed, 2 * n_rbms)
    trainers = [RBMTrainer(rbm, layer_rule, seed=seeds[layer])
                for layer, (rbm, layer_rule) in enumerate(zip(dbn.rbms, layer_rules))]
    # The layers whose output is sampled for the layer above, and the seeds.
    sample_seeds = [seeds[n_rbms + layer] if pass_up == "samples" or (
        pass_up == "samples_to_top" and layer + 2 == n_rbms) else None
        for layer in range(n_rbms - 1)] + [None]
    started = time.perf_counter()
    if schedule == "layerwise":
        layers = _layerwise(data, trainers, settings, sample_seeds, progress)
    else:
        layers = _simultaneously(data, trainers, settings, sample_seeds, progress)
    return History(layers=layers, wall_seconds=time.perf_counter() - started,
                   info={"seeds": seeds[:n_rbms], "sample_seeds": sample_seeds})


def _monitors_for(monitors, data):
    if monitors is None:
        return default_monitors(data, prefix="training_", pseudo_likelihood=False)
    return monitors


def _layerwise(data, trainers, settings, sample_seeds, progress):
    histories = []
    for layer in tqdm(range(len(trainers)), disable=not progress, unit="layer",
                      desc="pretraining"):
        histories.append(train_epochs(
            trainers[layer], data, epochs=settings["epochs"][layer],
            batch_size=settings["batch_size"][layer],
            monitors=_monitors_for(settings["monitors"][layer], data),
            progress=progress))
        if layer + 1 < len(trainers):  # the next layer's training data
            out = trainers[layer].rbm.hidden_probs(tf.constant(data))
            if sample_seeds[layer] is not None:
                sampler = tf.random.Generator.from_seed(sample_seeds[layer])
                out = sample_bernoulli(out, sampler)
            data = out.numpy()
    return histories


def _simultaneously(data, trainers, settings, sample_seeds, progress):
    stack = StackTrainer(trainers, sample_seeds)
    # Each layer's monitors, evaluated on the stack after every epoch.
    monitors = {}
    for layer, (trainer, chosen) in enumerate(zip(trainers, settings["monitors"])):
        # Layers above 0 learn from moving inputs; monitor them only when asked.
        chosen = _monitors_for(chosen, data) if layer == 0 else (chosen or {})
        for name, monitor in chosen.items():
            monitors[f"{layer}/{name}"] = lambda _, f=monitor, rbm=trainer.rbm: f(rbm)
    joint = train_epochs(stack, data, epochs=settings["epochs"][0],
                         batch_size=settings["batch_size"][0], monitors=monitors,
                         progress=progress, desc="pretraining")
    histories = []
    for layer in range(len(trainers)):
        history = History(epoch=list(joint.epoch), seconds=list(joint.seconds))
        history.metrics["surrogate"] = list(joint[f"surrogate_{layer}"])
        for key, values in joint.metrics.items():
            if key.startswith(f"{layer}/"):
                history.metrics[key.split("/", 1)[1]] = list(values)
        histories.append(history)
    return histories
