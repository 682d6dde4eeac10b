"""The exercises' common parts (``thetas.exercises``): a verdict reads as right or not, and shows its message."""
import numpy as np
import pytest

from thetas.exercises import Verdict, as_array, as_number, call, fast, right, sigmoid, wrong


def test_a_verdict_is_true_only_when_right_and_shows_its_message():
    yes, no = right("the gradient agrees"), wrong("the gradient has the wrong sign")
    assert bool(yes) and not bool(no)
    assert repr(yes) == "✓ the gradient agrees" and repr(no) == "✗ the gradient has the wrong sign"
    assert yes._repr_markdown_().startswith("**✓ Right.**") and "wrong sign" in no._repr_markdown_()
    assert Verdict(True, "x") == right("x")


def test_an_answer_becomes_an_array_or_says_why_not():
    assert np.array_equal(as_array([1, 2]), np.array([1.0, 2.0])) and as_array(3).dtype == np.float64
    missing = as_array(None, "your gradient")
    assert isinstance(missing, Verdict) and not missing and "your gradient is still None" in missing.message
    text = as_array("three")
    assert isinstance(text, Verdict) and "should be a number" in text.message and "str" in text.message

    class Holder:                                             # a Tensor-like: its .data is read
        data = np.ones(2)
    assert np.array_equal(as_array(Holder()), np.ones(2))


@pytest.mark.parametrize("value, expected", [("", False), ("0", False), ("1", True), ("yes", True)])
def test_fast_mode_is_read_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("THETAS_FAST", value)
    assert fast() is expected
    monkeypatch.delenv("THETAS_FAST")
    assert fast() is False


def test_one_number_or_why_not():
    assert as_number([2.5]) == 2.5 and isinstance(as_number(np.float32(3)), float)
    several = as_number([1, 2], "ŷ", "one number (a probability)")
    assert not several and "ŷ is one number (a probability), got an array of shape (2,)" in several.message
    assert "still None" in as_number(None, "the AUC").message
    assert "finite" in as_number(float("nan"), "z").message


def test_a_students_function_is_run_or_told_why_not():
    assert np.array_equal(call(lambda a, b: [a, b], 1, 2)[0], [1.0, 2.0])
    for fn, words in [(None, "still None"), (3, "itself"), (lambda: 1 / 0, "ZeroDivisionError"),
                      (lambda: None, "returned None"), (lambda: "x", "should be a number")]:
        value, verdict = call(fn)
        assert value is None and not verdict and words in verdict.message, (words, verdict)


def test_the_checks_sigmoid_is_thetas_own():
    import thetas as th
    z = np.array([-800.0, -2.0, 0.0, 3.0, 800.0])
    assert np.array_equal(sigmoid(z), th.sigmoid(th.tensor(z)).numpy())
    assert sigmoid(0.0).shape == () and float(sigmoid(0.0)) == 0.5
