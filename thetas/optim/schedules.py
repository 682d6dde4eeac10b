"""Learning-rate schedules: η as a function of the epoch, PyTorch's names and semantics.

    scheduler = th.optim.warmup_cosine(optimizer, warmup_epochs=5, total_epochs=100)
    for epoch in range(100):
        train_one_epoch(...)          # optimizer.step() per batch
        scheduler.step()              # once per epoch, after the optimizer

Constructing a schedule sets each group's ``lr`` to its value at epoch 0 (and records the group's starting lr as
``initial_lr``, the base η₀ of the formulas). Each schedule computes η from its closed form, η = f(η₀, epoch), the
formula in its docstring; PyTorch's recursive forms give the same values, but a thetas schedule overrides a
``group["lr"]`` changed by hand, and two schedules on one optimizer do not multiply: combine them with
``SequentialLR``. To resume, restore ``optimizer.load_state_dict`` and ``scheduler.load_state_dict``.
"""
import bisect
import math

from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and writes ``lr_at(base_lr, last_epoch)`` into each group."""

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs a thetas Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def lr_at(self, base_lr, epoch):
        raise NotImplementedError(f"{type(self).__name__} must define lr_at(base_lr, epoch)")

    def get_lr(self):
        """The learning rates of the current epoch, one per param group."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self):
        """Move to the next epoch and set each group's ``lr``."""
        self.last_epoch += 1
        self._apply()

    def _rewind(self):
        """Back to before epoch 0, so that the next ``step()`` starts the schedule again."""
        self.last_epoch = -1

    def _apply(self):
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates set by the last ``step()`` (one per param group)."""
        return list(self._last_lr)

    def state_dict(self):
        """Every attribute but the optimizer: JSON-able numbers and lists."""
        return {k: list(v) if isinstance(v, list) else v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Resume from ``state_dict()`` (checked first: a bad one changes nothing)."""
        self._check_state(state_dict)
        self.__dict__.update((k, list(v) if isinstance(v, list) else v) for k, v in state_dict.items())

    def _check_state(self, state_dict):
        own = set(vars(self)) - {"optimizer"}
        unexpected, missing = sorted(set(state_dict) - own), sorted(own - set(state_dict))
        if unexpected or missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(state_dict['base_lrs'])} base lrs for "
                             f"{len(self.optimizer.param_groups)} param groups")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                         if k not in ("optimizer", "base_lrs", "last_epoch", "_last_lr"))
        return f"{type(self).__name__}({args})"


class StepLR(LRScheduler):
    """η = η₀ · γ^⌊epoch / step_size⌋: divide the learning rate by 1/γ every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """η = η₀ · γ^epoch"""

    def __init__(self, optimizer, gamma):
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """η = η_min + ½ (η₀ − η_min)(1 + cos(π · epoch / T_max))

    Half a cosine from η₀ down to η_min over ``T_max`` epochs (beyond it the cosine goes on, back up, as in
    PyTorch).

    Args:
        T_max: epochs to reach η_min.
        eta_min: the floor η_min.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        if not T_max >= 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be at least 1 epoch, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LinearLR(LRScheduler):
    """η = η₀ · (s + (e − s) · min(epoch, total_iters) / total_iters): a linear ramp of the factor, e.g. warm-up.

    Args:
        start_factor: s (0 < s ≤ 1).
        end_factor: e (0 ≤ e ≤ 1).
        total_iters: epochs of the ramp.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        if not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive int, got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        s, e = self.start_factor, self.end_factor
        return base_lr * (s + (e - s) * min(self.total_iters, epoch) / self.total_iters)


class SequentialLR(LRScheduler):
    """One schedule after another: ``schedulers[i]`` runs from ``milestones[i-1]`` on, restarted at its epoch 0.

        SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, T_max=95)], milestones=[5])
    """

    def __init__(self, optimizer, schedulers, milestones):
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("SequentialLR needs at least one scheduler")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or s.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {i} ({type(s).__name__}) does not belong to this optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} milestones, "
                             f"got {len(milestones)}")
        if milestones != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must increase, got {milestones}")
        self._schedulers, self._milestones = schedulers, milestones
        self._rewind()  # undo the step each took when it was built; scheduler 0 starts below
        super().__init__(optimizer)

    def _rewind(self):
        self.last_epoch = -1
        for s in self._schedulers:
            s._rewind()

    def step(self):
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._rewind()
        scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def get_lr(self):
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        return self._schedulers[idx].get_lr()

    def state_dict(self):
        state = {k: v for k, v in super().state_dict().items() if k != "_schedulers"}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        self._check_state(state_dict)
        for s, inner in zip(self._schedulers, state_dict["_schedulers"]):
            s.load_state_dict(inner)
        self.__dict__.update((k, list(v) if isinstance(v, list) else v) for k, v in state_dict.items()
                             if k != "_schedulers")

    def _check_state(self, state_dict):
        super()._check_state(state_dict)
        inner = state_dict["_schedulers"]
        if not isinstance(inner, list) or len(inner) != len(self._schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: expected {len(self._schedulers)} scheduler states "
                             f"under '_schedulers', got {inner!r}")
        for s, st in zip(self._schedulers, inner):
            s._check_state(st)

    def __repr__(self):
        return f"SequentialLR({self._schedulers!r}, milestones={self._milestones})"


def warmup_cosine(optimizer, warmup_epochs, total_epochs, eta_min=0.0):
    """Linear warm-up, then cosine annealing: η = η₀ (e + 1)/(w + 1) for epochs e < w, then
    η_min + ½ (η₀ − η_min)(1 + cos(π (e − w) / (total_epochs − w))).

    The warm-up climbs evenly to η₀ at epoch w (never a zero step); the cosine reaches η_min at ``total_epochs``.
    A ``SequentialLR`` of ``LinearLR`` and ``CosineAnnealingLR``, so it saves and resumes like them.
    """
    if not isinstance(warmup_epochs, int) or warmup_epochs < 0:
        raise ValueError(f"warmup_cosine: warmup_epochs must be an int >= 0, got {warmup_epochs!r}")
    if not isinstance(total_epochs, int) or total_epochs <= warmup_epochs:
        raise ValueError(f"warmup_cosine: total_epochs ({total_epochs!r}) must be an int larger than "
                         f"warmup_epochs ({warmup_epochs})")
    if warmup_epochs == 0:
        return CosineAnnealingLR(optimizer, T_max=total_epochs, eta_min=eta_min)
    warmup = LinearLR(optimizer, start_factor=1.0 / (warmup_epochs + 1), total_iters=warmup_epochs)
    cosine = CosineAnnealingLR(optimizer, T_max=total_epochs - warmup_epochs, eta_min=eta_min)
    return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_epochs])
