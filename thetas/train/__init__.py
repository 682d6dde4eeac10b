"""Training: ``th.fit``, ``th.evaluate``, ``th.predict`` and the callbacks that watch a run."""
from .callbacks import Callback, EarlyStopping, History, ModelCheckpoint, ProgressBar, TerminateOnNaN
from .trainer import Trainer, evaluate, fit, predict

__all__ = ["fit", "evaluate", "predict", "Trainer", "Callback", "History", "ProgressBar", "EarlyStopping",
           "ModelCheckpoint", "TerminateOnNaN"]
