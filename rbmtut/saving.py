"""Saving and loading models: one ``.npz`` file with the model's
settings and parameters.

Every model (``BernoulliRBM``, ``DBN``, ``Autoencoder``, ``VAE``, ...) has
``model.save(path)`` and ``ModelClass.load(path)``; :func:`load_model` reads
any of them.  The file holds the class name, the constructor settings as
JSON (``model.get_config()``) and every variable as an array, so a loaded
model computes exactly what the saved one did.  Training state (momentum,
optimizer slots, persistent chains, the random generator) belongs to a
trainer: checkpoint it with :func:`rbmtut.fitting.checkpoint_manager`.
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

__all__ = ["Saveable", "load_model"]

_CLASSES: dict = {}


class Saveable:
    """Mixin for ``tf.Module`` models: ``save(path)``, ``load(path)`` and a
    class registry.

    A subclass implements ``get_config()``: the keyword arguments that rebuild
    a model of the same shape (``cls(**config)``), JSON-serialisable.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _CLASSES[cls.__name__] = cls

    def get_config(self) -> dict:
        """The constructor arguments that rebuild a model of this shape."""
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> str:
        """Write the model to ``path`` (``.npz`` is appended if missing); return
        the path.
        """
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        arrays = {f"variable_{i:04d}": v.numpy() for i, v in enumerate(self.variables)}
        np.savez(path, __class__=np.array(type(self).__name__),
                 __config__=np.array(json.dumps(self.get_config())),
                 __names__=np.array(json.dumps([v.name for v in self.variables])),
                 **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Read a model written by :meth:`save`; it must be an instance of ``cls``."""
        model = load_model(path)
        if not isinstance(model, cls):
            raise ValueError(
                f"{os.fspath(path)} holds a {type(model).__name__}, not a "
                f"{cls.__name__}; load it with {type(model).__name__}.load or "
                "rbmtut.load_model.")
        return model


def load_model(path: str | os.PathLike):
    """Read any model written by ``model.save(path)``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(
            f"no model file at {path}; pass the path that save() returned.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = {key: archive[key] for key in archive.files}
        name = str(stored.pop("__class__"))
        config = json.loads(str(stored.pop("__config__")))
        names = json.loads(str(stored.pop("__names__")))
    except (KeyError, ValueError, OSError) as err:
        raise ValueError(
            f"{path} is not a model file written by rbmtut's save(): {err}") from err
    if name not in _CLASSES:
        raise ValueError(f"{path} holds an unknown model class {name!r}.")
    model = _CLASSES[name](**config)
    variables = model.variables
    if len(variables) != len(stored):
        raise ValueError(
            f"{path} has {len(stored)} arrays but a {name} with these settings "
            f"has {len(variables)} variables; the file is damaged or from another "
            "version.")
    for i, (variable, saved_name) in enumerate(zip(variables, names)):
        value = stored[f"variable_{i:04d}"]
        if tuple(value.shape) != tuple(variable.shape) or variable.name != saved_name:
            raise ValueError(
                f"{path}: variable {i} is {saved_name} {value.shape}, but the model "
                f"has {variable.name} {tuple(variable.shape)}.")
        variable.assign(tf.constant(value, variable.dtype))
    return model
