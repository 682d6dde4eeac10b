"""Training: ``th.fit``, ``th.evaluate``, ``th.predict``, the callbacks that watch a run, and the checkpoint that
resumes one (``th.train.Checkpoint``)."""
from .callbacks import Callback, EarlyStopping, History, ModelCheckpoint, ProgressBar, TerminateOnNaN
from .checkpoint import Checkpoint, CheckpointError, TrainingInterrupted, check_resume, read_checkpoint
from .trainer import Trainer, evaluate, fit, predict

__all__ = ["fit", "evaluate", "predict", "Trainer", "Callback", "History", "ProgressBar", "EarlyStopping",
           "ModelCheckpoint", "TerminateOnNaN", "Checkpoint", "CheckpointError", "TrainingInterrupted",
           "read_checkpoint", "check_resume"]
