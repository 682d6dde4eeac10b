"""Optimizer: the loop body of training, θ ← θ − η · (something made of ∇loss), once per parameter.

An optimizer holds ``param_groups`` (dicts of ``"params"`` and hyperparameters, as PyTorch: one learning rate
for the body, another for the head) and ``state`` (per parameter: momentum buffers, moment estimates). ``step()``
reads each ``p.grad`` (a NumPy array, or None: skipped) and updates ``p.data`` in place; it never writes into
``p.grad``, whose array may be shared. ``state_dict()`` is plain JSON-able values and NumPy arrays, so a run can be
saved without pickle and resumed exactly.
"""
import numpy as np

from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor


def _plain(value):
    """A hyperparameter as JSON: tuples become lists, NumPy scalars Python numbers."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``step``, ``state_dict``.

    Subclasses set ``state_keys`` (the names their per-parameter state may hold), define ``_step_group(group)``
    and may define ``_check_group(group, index)`` to reject bad hyperparameters.

    Args:
        params: an iterable of Parameters, or of dicts ``{"params": [...], "lr": ...}`` (parameter groups;
            keys missing from a group take the optimizer's defaults).
        defaults: the hyperparameters of every group that does not set its own.
    """
    state_keys = frozenset()

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}          # Parameter -> {"momentum_buffer": array, ...}
        self.param_groups = []
        if isinstance(params, (Tensor, dict)) or isinstance(params, (set, frozenset)):
            raise TypeError(f"{type(self).__name__}: params must be an iterable (list) of Parameters or of "
                            f"parameter-group dicts, got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add ``{"params": [...], hyperparameter: value, ...}``; unset hyperparameters take the defaults."""
        name, index = type(self).__name__, len(self.param_groups)
        if not isinstance(group, dict):
            raise TypeError(f"{name}: param group {index} must be a dict with a 'params' key, got "
                            f"{type(group).__name__} (do not mix Parameters and group dicts)")
        if "params" not in group:
            raise KeyError(f"{name}: param group {index} has no 'params' key")
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: param group {index}: 'params' must be ordered (a list), not a set")
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: param group {index}, item {i} is a {type(p).__name__}, not a Parameter")
            if p.data.dtype.kind != "f":
                raise TypeError(f"{name}: param group {index}, item {i} has dtype {p.data.dtype}; "
                                "only floating parameters can be optimized")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: param group {index} lists the same parameter twice")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError(f"{name}: some parameters of param group {index} are already in another group")
        new = {k: v for k, v in group.items() if k != "params"}
        for key, value in self.defaults.items():
            new.setdefault(key, value)
        new["params"] = params
        self._check_group(new, index)
        self.param_groups.append(new)

    def _check_group(self, group, index):
        pass

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: ``p.grad = None`` (or a fresh zero array), never writing into the old array."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None if set_to_none or p.grad is None else np.zeros_like(p.data)

    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure`` (optional) recomputes the loss:
        it is called first, with gradients recorded, and its result is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        raise NotImplementedError(f"{type(self).__name__} must define _step_group()")

    # ------------------------------------------------------------------ saving and resuming
    def state_dict(self):
        """``{"state": {"0": {"exp_avg": array, "step": 3}, ...}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}``

        Parameters are numbered in group order; state arrays are copies. Only JSON scalars, lists, dicts and
        NumPy arrays, so ``th.save`` can write it without pickle.
        """
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: _plain(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, st in self.state.items():
            if id(p) in index:
                state[str(index[id(p)])] = {k: v.copy() if isinstance(v, np.ndarray) else _plain(v)
                                            for k, v in st.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Resume from ``state_dict()``: hyperparameters and per-parameter state. Everything (group count,
        parameters per group, state names, array shapes) is checked before anything changes."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            keys = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and 'param_groups', "
                             f"got {keys}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} param groups, "
                             f"this optimizer has {len(self.param_groups)}")
        by_index = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: param group {gi} has {len(group['params'])} parameters, "
                                 f"the state dict's has {len(saved['params'])}")
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise KeyError(f"{name}.load_state_dict: param group {gi} of the state dict lacks {missing} "
                               "(was it saved from another optimizer?)")
            by_index.update((int(i), p) for i, p in zip(saved["params"], group["params"]))
        new_state = {}
        for key, saved in state_dict["state"].items():
            try:
                p = by_index[int(key)]
            except (KeyError, ValueError):
                raise KeyError(f"{name}.load_state_dict: state for parameter {key!r}, which no param group "
                               "lists") from None
            unknown = sorted(set(saved) - self.state_keys)
            if unknown:
                raise KeyError(f"{name}.load_state_dict: parameter {key} has state {unknown}; {name} keeps only "
                               f"{sorted(self.state_keys)}")
            st = {}
            for k, v in saved.items():
                if isinstance(v, (np.ndarray, np.generic)) and np.ndim(v) == 0:
                    st[k] = v.item()
                elif isinstance(v, np.ndarray) or isinstance(v, list):
                    arr = np.asarray(v)
                    if arr.shape != p.data.shape:
                        raise ValueError(f"{name}.load_state_dict: '{k}' of parameter {key} has shape {arr.shape}, "
                                         f"the parameter has shape {p.data.shape}")
                    st[k] = np.array(arr, dtype=p.data.dtype)  # a copy, in the parameter's dtype
                else:
                    st[k] = v
            new_state[p] = st
        for group, saved in zip(self.param_groups, saved_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(group.get(k), tuple) else v
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])
