"""Checks for the exercises of ``notebooks/08_overfitting_dropout.ipynb``: dropout's scale, and where overfitting
starts on a learning curve."""
import numpy as np

from . import Verdict, as_array, as_number, right, wrong

# Exercise 1: one unit through th.nn.Dropout(p=0.2)
DROPOUT_P, UNIT = 0.2, 3.0
# Exercise 2: the learning curves of a run that overfits (loss per image, after each epoch 1, 2, ..., 25)
CURVES = {
    "loss": [0.9, 0.5, 0.33, 0.24, 0.17, 0.12, 0.085, 0.06, 0.043, 0.031, 0.023, 0.017, 0.013, 0.010, 0.008, 0.006,
             0.005, 0.004, 0.0035, 0.003, 0.0026, 0.0023, 0.002, 0.0018, 0.0016],
    "val_loss": [0.95, 0.62, 0.48, 0.41, 0.37, 0.352, 0.347, 0.355, 0.361, 0.372, 0.38, 0.395, 0.402, 0.418, 0.425,
                 0.44, 0.447, 0.46, 0.466, 0.478, 0.485, 0.493, 0.5, 0.508, 0.514],
}


def check_dropout_scale(answer):
    """(training, evaluation): what ``th.nn.Dropout(p=0.2)`` passes on for a unit h = 3 that is kept in training
    mode, and in evaluation mode: inverted dropout scales a kept unit by 1/(1 − p), 3.75, and is the identity at
    evaluation, 3.0 (to 1e-9)."""
    if answer is None:
        return as_array(None, "(training, evaluation)")
    values = as_array(answer, "(training, evaluation)")
    if not isinstance(values, np.ndarray):
        return values
    if values.shape != (2,):
        return wrong(f"give two numbers, (value in training when kept, value at evaluation); got shape {values.shape}.")
    if not np.isfinite(values).all():
        return wrong("the two values hold a NaN or an infinity.")
    train, evaluation = values
    p, h = DROPOUT_P, UNIT

    def near(a, b):
        return abs(a - b) <= 1e-9
    if near(train, h / (1 - p)) and near(evaluation, h):
        return right(f"{h / (1 - p):g} in training, {h:g} at evaluation. A kept unit is divided by 1 − p = 0.8 so its "
                     f"expected value stays (1 − p) · h / (1 − p) = h; then nothing needs to change at test time. "
                     "(The original paper scaled nothing in training and multiplied the weights by 1 − p at test "
                     "time instead: the same expected values.)")
    if not near(evaluation, h):
        if near(evaluation, h * (1 - p)) or near(evaluation, h / (1 - p)):
            return wrong("at evaluation thetas' Dropout does nothing at all: all units are on and none is scaled "
                         "(model.eval() switches it off). The scaling happens in training.")
        return wrong("the evaluation value is not right: what does a Dropout layer do in eval mode?")
    if near(train, h):
        return wrong("in training the kept units are scaled, so that a unit's expected value is the same as at "
                     "evaluation, when every unit is on.")
    if near(train, h * (1 - p)):
        return wrong("the other way round: a kept unit must make up for the dropped ones, so it grows. Its expected "
                     "value over the random mask must be h.")
    if near(train, 0.0):
        return wrong("a dropped unit gives 0; the question asks for a kept one.")
    return wrong("A unit is kept with probability 1 − p; for its expected value to stay h, by what factor must a "
                 "kept unit be multiplied?")


def check_overfitting_point(answer):
    """The epoch (counted from 1) after which the test loss of ``CURVES`` is lowest: where overfitting starts and
    early stopping would keep the weights: epoch 7."""
    epoch = as_number(answer, "the epoch", "one whole number")
    if isinstance(epoch, Verdict):
        return epoch
    val = np.asarray(CURVES["val_loss"])
    best = int(np.argmin(val)) + 1
    if epoch == best:
        return right(f"epoch {best}: the test loss is lowest there ({val[best - 1]:.3f}) and climbs back up after "
                     f"it, to {val[-1]:.3f}, while the training loss goes on falling. From there on the network "
                     "learns its training images, not digits; th.train.EarlyStopping keeps the best epoch's weights.")
    if epoch == best - 1:
        return wrong("almost: epochs count from 1 (the first value of the curve is after epoch 1), and np.argmin "
                     "counts from 0. Read off the plot? The curve is nearly flat there: print "
                     "exercises.CURVES['val_loss'] and compare neighbouring epochs.")
    if epoch == best + 1:
        return wrong("almost: the test loss is nearly flat there. Print exercises.CURVES['val_loss'] and compare "
                     "neighbouring epochs: which one is the lowest?")
    if epoch == len(val) or epoch == int(np.argmin(CURVES["loss"])) + 1:
        return wrong("that is where the training loss is lowest: it keeps falling as the network memorises its "
                     "images. Overfitting shows on the test loss.")
    return wrong("Look at the test loss (the dashed curve, exercises.CURVES['val_loss']): after which epoch is it "
                 "lowest, before it turns back up?")
