"""Optimizers and learning-rate schedules: ``th.optim.SGD``, ``th.optim.Adam``, ``th.optim.warmup_cosine``.

    opt = th.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for xb, yb in loader:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
"""
from . import schedules
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .schedules import (CosineAnnealingLR, ExponentialLR, LinearLR, LRScheduler, SequentialLR, StepLR,
                        warmup_cosine)
from .sgd import SGD

lr_scheduler = schedules  # PyTorch's spelling: th.optim.lr_scheduler.StepLR

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR",
           "LinearLR", "SequentialLR", "warmup_cosine", "schedules", "lr_scheduler"]
