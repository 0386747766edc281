"""How an RBM learns: one settings object for the trainer, ``fit_rbm``
and DBN pretraining.

A :class:`LearningRule` says which gradient estimate to follow (CD-k, PCD-k,
parallel tempering, fast-weights PCD or the exact gradient) and how to apply
it (the built-in momentum rule, or a Keras optimizer).  It is declared once, here;
:class:`rbmtut.learning.RBMTrainer`, :func:`rbmtut.fit_rbm` and
:func:`rbmtut.fit_dbn` all take one, or its fields as keyword arguments.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
from typing import Callable

import keras

from ._validation import (check_choice, check_instance, check_int, check_no_label_units,
                          check_real)
from .exact import MAX_EXACT_UNITS
from .gaussian import BernoulliGaussianRBM, GaussianBernoulliRBM
from .rbm import BernoulliRBM
from .tempering import inverse_temperatures

__all__ = ["MODELS", "METHODS", "PERSISTENT_METHODS", "LearningRule", "scheduled_value"]

#: The models an RBM trainer learns: binary units (with the analytic statistics),
#: and Gaussian units (:mod:`rbmtut.gaussian`; CD or PCD, autodiff of the surrogate).
MODELS = (BernoulliRBM, GaussianBernoulliRBM, BernoulliGaussianRBM)
#: The gradient estimates an RBM trainer knows.
METHODS = ("cd", "pcd", "pt", "fpcd", "exact")
#: The methods whose chains persist between updates (they need ``n_chains``).
PERSISTENT_METHODS = ("pcd", "pt", "fpcd")

@dataclasses.dataclass(frozen=True)
class LearningRule:
    """The settings of RBM learning, validated when made.

    Attributes:
        method: ``"cd"`` (chains start at the data), ``"pcd"`` (persistent
            chains, Tieleman 2008), ``"pt"`` (persistent chains at several
            temperatures that swap states, :mod:`rbmtut.tempering`),
            ``"fpcd"`` (persistent chains that sample with added fast weights,
            :mod:`rbmtut.fast_weights`) or ``"exact"`` (the true
            log-likelihood gradient by enumeration; tiny models only).
        k: Gibbs steps per update (CD-k, PCD-k), >= 1.
        learning_rate: built-in rule only: a float > 0, or a function
            ``epoch (0-based) -> float`` applied at the start of each epoch
            (default 0.05).  With an ``optimizer``, set the optimizer's own
            rate or a ``keras.optimizers.schedules`` schedule instead.
        momentum: built-in rule only: coefficient in [0, 1) (default 0.5), or
            a function ``epoch (0-based) -> coefficient`` applied at the start
            of each epoch, e.g. ``lambda epoch: 0.5 if epoch < 5 else 0.9`` (the
            practical guide's schedule).
        weight_decay: L2 coefficient on ``W`` only, >= 0, in both modes.
        optimizer: a fresh (unbuilt) ``keras.optimizers.Optimizer``; the
            trainer builds it on ``(W, b, c)``, or on ``W`` alone if
            ``bias_optimizer`` is given.
        bias_optimizer: a fresh Keras optimizer for ``(b, c)``.
        n_chains: persistent chains for ``"pcd"`` and ``"fpcd"``, and per
            temperature for ``"pt"`` (``fit_rbm`` and ``fit_dbn`` default it
            to the batch size); unused otherwise.
        ladder: ``"pt"`` only: the number of temperatures or the inverse
            temperatures (see :func:`rbmtut.tempering.inverse_temperatures`);
            default 10, evenly spaced from 1 to 0.
        centering: built-in rule only: the rate in (0, 1] of the moving
            averages that centre the units (:mod:`rbmtut.centering`; about
            0.01); 0 (the default) trains the plain RBM.
        fast_learning_rate: ``"fpcd"`` only: the fast weights' rate, > 0
            (default: the regular rate of the first epoch).
    """

    method: str = "cd"
    k: int = 1
    learning_rate: float | Callable[[int], float] | None = None
    momentum: float | Callable[[int], float] | None = None
    weight_decay: float = 0.0
    optimizer: keras.optimizers.Optimizer | None = None
    bias_optimizer: keras.optimizers.Optimizer | None = None
    n_chains: int | None = None
    ladder: int | tuple | None = None
    centering: float = 0.0
    fast_learning_rate: float | None = None

    def __post_init__(self):
        check_choice(self.method, "method", METHODS)
        check_int(self.k, "k", low=1)
        check_real(self.weight_decay, "weight_decay", low=0.0)
        for name in ("optimizer", "bias_optimizer"):
            value = getattr(self, name)
            if value is not None:
                check_instance(
                    value, name, keras.optimizers.Optimizer,
                    "Pass an optimizer object, e.g. keras.optimizers.Adam(1e-3).",
                    what="keras.optimizers.Optimizer")
        if self.optimizer is None:
            if self.bias_optimizer is not None:
                raise ValueError(
                    "bias_optimizer needs an optimizer for the weights as well.")
            if self.learning_rate is not None and not callable(self.learning_rate):
                check_real(self.learning_rate, "learning_rate", low=0.0, low_open=True)
            if self.momentum is not None and not callable(self.momentum):
                check_real(self.momentum, "momentum", low=0.0, high=1.0, high_open=True)
        elif self.learning_rate is not None or self.momentum is not None:
            raise ValueError(
                "learning_rate and momentum belong to the built-in rule; with an "
                "optimizer, set them on the optimizer "
                "(e.g. keras.optimizers.SGD(0.05, momentum=0.5)).")
        if self.n_chains is not None:
            check_int(self.n_chains, "n_chains", low=1)
            if self.method not in PERSISTENT_METHODS:
                raise ValueError(f"n_chains is only used by the methods "
                                 f"{PERSISTENT_METHODS}, not {self.method!r}.")
        if self.method == "fpcd" and self.optimizer is not None:
            raise ValueError("method='fpcd' works with the built-in momentum rule; "
                             "leave out the optimizer.")
        if self.fast_learning_rate is not None:
            if self.method != "fpcd":
                raise ValueError("fast_learning_rate is only used by method='fpcd', "
                                 f"not {self.method!r}.")
            check_real(self.fast_learning_rate, "fast_learning_rate", low=0.0,
                       low_open=True)
        check_real(self.centering, "centering", low=0.0, high=1.0)
        if self.centering and self.optimizer is not None:
            raise ValueError(
                "centering works with the built-in momentum rule; leave out the "
                "optimizer, or set centering=0.")
        if self.ladder is not None:
            if self.method != "pt":
                raise ValueError(
                    f"ladder is only used by method='pt', not {self.method!r}.")
            betas = inverse_temperatures(self.ladder)
            if not isinstance(self.ladder, int):  # hashable, and a plain record
                object.__setattr__(self, "ladder", tuple(float(b) for b in betas))

    @classmethod
    def build(cls, rule: LearningRule | None = None, **fields) -> LearningRule:
        """``rule`` (default ``LearningRule()``) with ``fields`` replaced; unknown
        names are refused.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise TypeError(f"unknown learning setting(s) {unknown}; LearningRule has "
                            f"{sorted(known)}.")
        if rule is None:
            return cls(**fields)
        check_instance(rule, "rule", cls, "Build one with rbmtut.LearningRule(...).")
        return dataclasses.replace(rule, **fields) if fields else rule

    def for_model(self, rbm) -> LearningRule:
        """This rule, checked against ``rbm``'s sizes and unit types."""
        if self.method == "pt" or (self.method == "exact"
                                   and rbm.n_hidden > rbm.n_visible):
            check_no_label_units(rbm, f"method={self.method!r}")
        if not isinstance(rbm, BernoulliRBM) and (self.method not in ("cd", "pcd")
                                                  or self.centering):
            raise ValueError(
                f"a {type(rbm).__name__} trains with method='cd' or 'pcd' and no "
                f"centering; got method={self.method!r}, centering={self.centering}.")
        if (self.method == "exact"
                and min(rbm.n_visible, rbm.n_hidden) > MAX_EXACT_UNITS):
            raise ValueError(
                "method='exact' enumerates a layer and needs one with at most "
                f"{MAX_EXACT_UNITS} units; use 'cd' or 'pcd'.")
        if self.method in PERSISTENT_METHODS and self.n_chains is None:
            raise ValueError(f"method={self.method!r} needs n_chains, an int >= 1 "
                             "(usually the batch size).")
        return self

    @property
    def momentum_value(self) -> float:
        """The built-in rule's momentum for epoch 0 (0.5 unless set)."""
        if callable(self.momentum):
            return scheduled_value(self.momentum, 0, "momentum")
        return 0.5 if self.momentum is None else self.momentum

    def first_learning_rate(self) -> float:
        """The built-in rule's rate for epoch 0 (0.05 unless set)."""
        rate = 0.05 if self.learning_rate is None else self.learning_rate
        if callable(rate):
            rate = scheduled_value(rate, 0, "learning-rate")
            if not rate > 0:
                raise ValueError(
                    f"the learning-rate schedule returned {rate!r} for epoch 0; "
                    "it must return a number > 0.")
        return float(rate)

    def build_optimizers(self, rbm) -> None:
        """Build the fresh Keras optimizer(s) on the RBM's variables (checkpoints
        restore eagerly).
        """
        pairs = ([(self.optimizer, list(rbm.parameters), "optimizer")]
                 if self.bias_optimizer is None
                 else [(self.optimizer, [rbm.W], "optimizer"),
                       (self.bias_optimizer, list(rbm.parameters[1:]),
                        "bias_optimizer")])
        for optimizer, variables, name in pairs:
            if optimizer.built:
                raise ValueError(
                    f"{name} is already built on other variables; pass a fresh "
                    "optimizer (one per trainer).")
            optimizer.build(variables)

    def fingerprint(self, rbm, seed: int) -> str:
        """Everything a checkpoint must agree on to resume this run, as a string."""
        def describe(value):
            if isinstance(value, keras.optimizers.Optimizer):
                config = {k: v for k, v in value.get_config().items()
                          if k != "name"}  # automatic
                return {"class": type(value).__name__, "config": config}
            if callable(value):
                name = getattr(value, "__qualname__", type(value).__name__)
                return f"schedule {name}"
            return value
        fields = {f.name: describe(getattr(self, f.name))
                  for f in dataclasses.fields(self)}
        fields.update(seed=seed, rbm=[rbm.n_visible, rbm.n_hidden, rbm.dtype.name])
        if type(rbm).__name__ != "BernoulliRBM":  # other unit types: name the model
            fields["model"] = type(rbm).__name__
        return json.dumps(fields, sort_keys=True, default=str)


def scheduled_value(schedule: Callable[[int], float], epoch: int, what: str) -> float:
    """``schedule(epoch)``, checked: a number >= 0 for a ``"learning-rate"``
    schedule, in [0, 1) for a ``"momentum"`` one."""
    value = schedule(epoch)
    high = 1.0 if what == "momentum" else float("inf")
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0 <= value < high):
        allowed = "in [0, 1)" if what == "momentum" else ">= 0"
        raise ValueError(f"the {what} schedule returned {value!r} for epoch {epoch}; "
                         f"it must return a number {allowed} for every epoch.")
    return float(value)
