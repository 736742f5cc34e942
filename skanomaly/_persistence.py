"""Saving and loading fitted estimators as weights and settings only.

:func:`save` writes a fitted estimator as plain data: its parameters, its
fitted attributes (numbers, strings, arrays as tensors) and the
``state_dict`` of each torch module, in a file that :func:`load` reads with
``torch.load(weights_only=True)``. Unlike a pickle (joblib), such a file
cannot run code when it is loaded, so a model from an untrusted source is
safe to open. The classes it rebuilds are looked up by name in scikit-learn
and skanomaly only.

The rebuild contract: an estimator with torch modules has a ``_rebuild(device)``
method that, called on an estimator whose parameters and fitted attributes
are set, rebuilds its skorch net untrained from them alone (see
:mod:`skanomaly._base._estimator`); the net's saved settings are then applied,
the net initialised and the saved weights loaded. A model saved on a GPU
loads on a machine without one. Files written by skanomaly 0.1 load too:
classes are found where they live now, and renamed fitted attributes
(``_renamed_attributes``) get their new names, and parameters added since
(``_defaults_before``) the values that keep the old behaviour.
"""

import importlib
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from torch import nn

from ._base import resolve_device
from ._version import __version__

__all__ = ["load", "save"]

FORMAT = "skanomaly-weights-1"
#: modules whose classes :func:`load` may rebuild
_SAFE_MODULES = ("skanomaly.", "sklearn.")
#: value types stored as they are
_PLAIN = (type(None), bool, int, float, str)


class _Unsavable(TypeError):
    """A value that has no weights-only representation."""


def _class_path(obj):
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _resolve(path):
    """The estimator class named ``path``, from scikit-learn or skanomaly only."""
    module_name, _, name = path.rpartition(".")
    if not module_name.startswith(_SAFE_MODULES) or "." in name:
        raise ValueError(
            f"The file names the class {path!r}; only scikit-learn and skanomaly "
            "estimators are loaded."
        )
    cls = None
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        if module_name.startswith("skanomaly."):
            # a file of an older version names a module the class has left
            cls = getattr(importlib.import_module("skanomaly"), name, None)
    if cls is None:
        raise ValueError(f"The file names the class {path!r}, which is not found "
                         "in this installation.")
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
        # a bad file, not a bad argument: ValueError, as every other check of the file
        raise ValueError(f"The file names {path!r}, which is not an estimator class.")  # noqa: TRY004
    return cls


# --------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------
def _net_state(net):
    """Settings (plain values only) and module weights of an initialized skorch net."""
    settings = {}
    for key, value in net.get_params(deep=False).items():
        if key.startswith("_"):
            continue
        try:
            if not _is_plain(value):
                raise _Unsavable(key)
            settings[key] = _encode(value)
        except _Unsavable:
            pass  # modules, callables, callbacks, sampler labels: rebuilt
    modules = {name: {k: v.detach().cpu() for k, v in module.state_dict().items()}
               for name, module in vars(net).items()
               if name.endswith("_") and not name.startswith("_")
               and isinstance(module, nn.Module)}
    return {"__net__": {"settings": settings, "modules": modules}}


def _is_plain(value):
    """Numbers, strings and containers of them (the settings of a net)."""
    if isinstance(value, tuple | list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return isinstance(value, (*_PLAIN, np.generic))


def _encode(value, where="value"):
    if isinstance(value, np.generic):  # before _PLAIN: np.float64 is a float
        return value.item()
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc":
            return {"__ndarray__": torch.from_numpy(np.array(value, copy=True))}
        if value.dtype.kind in "US" or (
            value.dtype.kind == "O" and all(isinstance(v, str) for v in value.flat)
        ):
            return {"__strarray__": [str(v) for v in value.flat],
                    "shape": list(value.shape)}
        raise _Unsavable(f"{where} is an array of dtype {value.dtype}")
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, torch.device | Path):
        return str(value)
    if isinstance(value, tuple):
        return tuple(_encode(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _Unsavable(f"{where} is a dict with non-string keys")
        return {k: _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, NeuralNet):
        return _net_state(value)
    if isinstance(value, nn.Module):
        return {"__module__": {k: v.detach().cpu() for k, v in value.state_dict().items()}}
    if isinstance(value, BaseEstimator):
        return _encode_estimator(value)
    raise _Unsavable(f"{where} is a {type(value).__name__}")


def _encode_estimator(estimator):
    if not _class_path(estimator).startswith(_SAFE_MODULES):
        raise _Unsavable(
            f"{type(estimator).__name__} is neither a scikit-learn nor a skanomaly "
            "estimator"
        )
    name = type(estimator).__name__
    params, unsaved = {}, []
    for key, value in estimator.get_params(deep=False).items():
        try:
            if isinstance(value, nn.Module | NeuralNet):
                raise _Unsavable(key)  # an architecture: not rebuildable from weights
            params[key] = _encode(value, f"{name}'s parameter {key!r}")
        except _Unsavable:
            unsaved.append(key)
    state = {}
    for key, value in vars(estimator).items():
        if key in params or key in unsaved:
            continue
        state[key] = _encode(value, f"{name}.{key}")  # fitted state must be saved
    return {"__estimator__": _class_path(estimator), "params": params,
            "unsaved": unsaved, "state": state}


# --------------------------------------------------------------------------
# decoding
# --------------------------------------------------------------------------
def _decode(value, device):
    if isinstance(value, tuple):
        return tuple(_decode(v, device) for v in value)
    if isinstance(value, list):
        return [_decode(v, device) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        return value["__ndarray__"].numpy()
    if "__strarray__" in value:
        return np.array(value["__strarray__"], dtype=object).reshape(value["shape"])
    if "__estimator__" in value:
        return _decode_estimator(value, device)
    return {k: _decode(v, device) for k, v in value.items()}


def _is_torch_state(value):
    return isinstance(value, dict) and ("__net__" in value or "__module__" in value)


def _decode_estimator(record, device, overrides=None):
    cls = _resolve(record["__estimator__"])
    params = {k: _decode(v, device) for k, v in record["params"].items()}
    overrides = dict(overrides or {})
    missing = [k for k in record["unsaved"] if k not in overrides]
    if missing:
        warnings.warn(
            f"{cls.__name__}'s parameters {missing} could not be saved as weights "
            "only and take their default values; pass them to load() "
            f"(load(path, {missing[0]}=...)) to set them.",
            UserWarning,
        )
    # parameters added since the file was saved: the values that keep the
    # behaviour of the version that saved it
    for key, value in getattr(cls, "_defaults_before", {}).items():
        params.setdefault(key, value)
    params.update(overrides)
    removed = sorted(set(params) - set(cls._get_param_names()))
    if removed:
        raise ValueError(
            f"The file holds a {cls.__name__} with the parameters {removed}, which this "
            f"version (skanomaly {__version__}) no longer has: skanomaly 0.3 made each "
            "detector score with its own method, and scores of several components "
            "became CombinedDetector recipes (skanomaly.make_recipe). Fit the detector "
            "again with this version."
        )
    target = resolve_device(device or params.get("device", "cpu"), fallback=True)
    if "device" in params:
        params["device"] = target  # the saved device, or the CPU where it is missing
    estimator = cls(**params)
    renamed = getattr(cls, "_renamed_attributes", {})
    state = {renamed.get(k, k): v for k, v in record["state"].items()}
    torch_state = {k: v for k, v in state.items() if _is_torch_state(v)}
    plain = {k: _decode(v, device) for k, v in state.items() if k not in torch_state}
    plain = {k: v.to(target) if isinstance(v, torch.Tensor) else v
             for k, v in plain.items()}
    estimator.__dict__.update(plain)
    if torch_state:
        if not hasattr(estimator, "_rebuild"):
            raise ValueError(f"{cls.__name__} cannot rebuild its torch modules.")
        estimator._rebuild(target)
        # the net first: the modules it holds may be saved again on their own
        # (0.1 files keep a CNN's extractor_ beside its net_)
        for key in sorted(torch_state, key=lambda k: k != "net_"):
            _load_torch_state(estimator, key, torch_state[key], target, cls.__name__)
    return estimator


def _load_weights(module, weights, what):
    try:
        module.load_state_dict(weights)
    except RuntimeError as exc:
        raise ValueError(
            f"The saved weights of {what} do not fit the rebuilt network: its "
            "architecture depends on a parameter that was not saved (pass it to "
            f"load()). {exc}"
        ) from exc


def _load_torch_state(estimator, key, saved, device, name):
    obj = getattr(estimator, key, None)
    if "__module__" in saved:
        if not isinstance(obj, nn.Module):
            raise ValueError(f"{name}.{key} was not rebuilt as a torch module.")
        _load_weights(obj, saved["__module__"], f"{name}.{key}")
        obj.to(device)
        return
    if not isinstance(obj, NeuralNet):
        raise ValueError(f"{name}.{key} was not rebuilt as a skorch net.")  # noqa: TRY004 (a bad file)
    settings = {k: _decode(v, device) for k, v in saved["__net__"]["settings"].items()}
    settings["device"] = device
    current = obj.get_params(deep=False)
    # the saved settings the rebuilt net knows: its own arguments, and
    # prefixed module arguments (a 0.1 file's data-dependent settings); others,
    # of older versions, are left out
    changed = {k: v for k, v in settings.items()
               if (k in current and current[k] != v) or (k not in current and "__" in k)}
    for setting in [k for k in changed if "__" not in k]:
        setattr(obj, setting, changed.pop(setting))  # the net's own settings
    if changed:
        obj.set_params(**changed)
    obj.initialize()
    for module_name, weights in saved["__net__"]["modules"].items():
        module = getattr(obj, module_name, None)
        if not isinstance(module, nn.Module):
            raise ValueError(f"{name}.{key}.{module_name} was not rebuilt.")  # noqa: TRY004 (a bad file)
        _load_weights(module, weights, f"{name}.{key}.{module_name}")
        module.to(device)


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------
def save(estimator, path):
    """Save a fitted estimator as weights and settings only.

    The file holds the estimator's parameters, its fitted attributes and
    the weights of its torch modules as plain data (numbers, strings,
    tensors): :func:`load` opens it with ``torch.load(weights_only=True)``,
    which cannot run code, unlike unpickling a joblib file.

    Parameters
    ----------
    estimator : estimator
        A fitted skanomaly estimator, or a scikit-learn estimator (a
        Pipeline or TrimmedDetector of them too) whose fitted attributes are
        numbers and arrays.
    path : str or path-like
        File to write (``.pt`` by convention).

    Raises
    ------
    TypeError
        If a fitted attribute cannot be stored as plain data (for example
        the trees of an IsolationForest): use joblib for such estimators.

    Warns
    -----
    UserWarning
        If parameters such as ``callbacks`` or a backbone given as a module
        object cannot be stored; :func:`load` then takes their defaults,
        or the values passed to it.

    See Also
    --------
    load : Read a file written by :func:`save`.
    """
    check_is_fitted(estimator)
    try:
        record = _encode_estimator(estimator)
    except _Unsavable as exc:
        raise TypeError(
            f"{type(estimator).__name__} cannot be saved as weights only: {exc}. "
            "Use joblib.dump for it, and load such files from trusted sources only."
        ) from None
    unsaved = _unsaved_names(record)
    if unsaved:
        warnings.warn(
            f"These parameters cannot be saved as weights only and are left out: "
            f"{unsaved}. Pass them again to load() where they matter.",
            UserWarning,
        )
    torch.save({"format": FORMAT, "skanomaly_version": __version__,
                "estimator": record}, path)


def _unsaved_names(record, prefix=""):
    names = [prefix + k for k in record["unsaved"]]
    for section in ("params", "state"):
        for key, value in record[section].items():
            if isinstance(value, dict) and "__estimator__" in value:
                names += _unsaved_names(value, f"{prefix}{key}.")
    return names


def load(path, *, device=None, **params):
    """Load an estimator written by :func:`save`.

    The file is read with ``torch.load(weights_only=True)``: it can hold
    only plain data, so loading it cannot run code. The estimator's class is
    looked up by name in scikit-learn and skanomaly only; its torch modules
    are rebuilt from its parameters, then get their saved weights.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save`.
    device : str, default=None
        Torch device to load the modules onto, e.g. 'cpu' or 'cuda'. None:
        the device the model was saved from when it is available here, else
        the CPU.
    **params : dict
        Parameters of the top-level estimator to set instead of the saved
        ones, needed for those :func:`save` could not store (``callbacks``,
        a ``backbone`` given as a module object).

    Returns
    -------
    estimator : estimator
        The fitted estimator, scoring as the saved one did.

    See Also
    --------
    save : Save a fitted estimator as weights and settings only.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly import AutoEncoder, load, save
    >>> X = np.random.RandomState(0).rand(32, 1, 8, 8).astype(np.float32)
    >>> detector = AutoEncoder(n_filters=4, max_epochs=1, random_state=0).fit(X)
    >>> save(detector, "detector.pt")
    >>> loaded = load("detector.pt")
    >>> bool(np.allclose(loaded.score_samples(X), detector.score_samples(X)))
    True
    >>> import os; os.remove("detector.pt")
    """
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ValueError(
            f"{path} is not a file written by skanomaly.save (or it holds objects "
            f"that weights-only loading refuses): {exc}"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a file written by skanomaly.save.")
    if data.get("skanomaly_version") != __version__:
        warnings.warn(
            f"{path} was saved by skanomaly {data.get('skanomaly_version')}; this is "
            f"{__version__}. Check its scores.",
            UserWarning,
        )
    return _decode_estimator(data["estimator"], device, params)
