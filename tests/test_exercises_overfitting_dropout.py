"""The checks of notebooks/08_overfitting_dropout.ipynb: right answers pass, wrong ones and None are told why."""
import numpy as np

import thetas as th
from thetas.exercises import overfitting_dropout as ex


def test_dropout_scale_matches_thetas_dropout():
    layer = th.nn.Dropout(ex.DROPOUT_P, generator=0)
    h = np.full(1000, ex.UNIT)
    trained = layer(h).data
    kept = trained[trained != 0][0]
    evaluated = layer.eval()(h).data[0]
    assert ex.check_dropout_scale((kept, evaluated))
    assert ex.check_dropout_scale([3.75, 3])
    assert ex.check_dropout_scale(np.array([3.75, 3.0]))


def test_dropout_scale_rejects_wrong_answers():
    unscaled = ex.check_dropout_scale((3.0, 3.0))
    assert not unscaled and "scaled" in unscaled.message
    shrunk = ex.check_dropout_scale((2.4, 3.0))
    assert not shrunk and "other way round" in shrunk.message
    at_eval = ex.check_dropout_scale((3.0, 2.4))
    assert not at_eval and "eval" in at_eval.message
    dropped = ex.check_dropout_scale((0.0, 3.0))
    assert not dropped and "kept" in dropped.message
    assert not ex.check_dropout_scale((5.0, 3.0))
    assert not ex.check_dropout_scale((3.75, 7.0))
    assert not ex.check_dropout_scale(None) and "None" in ex.check_dropout_scale(None).message
    assert "two numbers" in ex.check_dropout_scale(3.75).message
    assert not ex.check_dropout_scale(("a", "b"))
    assert not ex.check_dropout_scale((np.inf, 3.0))


def test_overfitting_point():
    assert ex.check_overfitting_point(7)
    assert ex.check_overfitting_point(np.int64(np.argmin(ex.CURVES["val_loss"]) + 1))
    off_by_one = ex.check_overfitting_point(6)
    assert not off_by_one and "count from 1" in off_by_one.message
    last = ex.check_overfitting_point(25)
    assert not last and "training loss" in last.message
    other = ex.check_overfitting_point(12)
    assert not other and "lowest" in other.message
    assert not ex.check_overfitting_point(None) and "None" in ex.check_overfitting_point(None).message
    assert not ex.check_overfitting_point([7, 8])
    assert not ex.check_overfitting_point("seven")
