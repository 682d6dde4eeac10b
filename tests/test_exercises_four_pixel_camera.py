"""The checks of notebooks/05_four_pixel_camera.ipynb: right answers pass, wrong ones and None are told why."""
import numpy as np

from thetas.exercises import four_pixel_camera as ex

PAIRS = np.array([[1, 0, 0, 0], [-1, 0, 0, 0], [0, 1, 0, 0], [0, -1, 0, 0],
                  [0, 0, 1, 0], [0, 0, -1, 0], [0, 0, 0, 1], [0, 0, 0, -1]], np.float64)
# FIRST_LAYER's neurons see horizontal, −solid, vertical, −diagonal: each class score adds its neuron's pair
SCORES = np.zeros((4, 8))
for cls, neuron in ((0, 1), (1, 2), (2, 3), (3, 0)):
    SCORES[cls, 2 * neuron:2 * neuron + 2] = 1


def test_rewired_camera_accepts_a_right_wiring():
    assert ex.check_rewired_camera((PAIRS, SCORES))
    assert ex.check_rewired_camera([PAIRS.tolist(), SCORES.tolist()])          # nested lists too
    swapped = PAIRS[[1, 0, 2, 3, 4, 5, 6, 7]]                                    # the pair's order does not matter
    assert ex.check_rewired_camera((swapped, SCORES))


def test_rewired_camera_rejects_wrong_answers():
    from thetas.lab.fourpixel import PRESET
    verdict = ex.check_rewired_camera((PRESET[1], PRESET[2]))                    # the notebook's wiring: wrong here
    assert not verdict and "of the 8 pattern images are right" in verdict.message
    assert not ex.check_rewired_camera(None) and "None" in ex.check_rewired_camera(None).message
    bad = ex.check_rewired_camera((PAIRS * 2, SCORES))
    assert not bad and "1, −1 and 0" in bad.message
    shape = ex.check_rewired_camera((PAIRS.T, SCORES))
    assert not shape and "shape" in shape.message
    assert "pair" in ex.check_rewired_camera(PAIRS).message
    assert not ex.check_rewired_camera((np.zeros((8, 4)), np.zeros((4, 8))))     # all scores tie
    assert "tie" in ex.check_rewired_camera((np.zeros((8, 4)), np.zeros((4, 8)))).message
    assert not ex.check_rewired_camera(("abc", SCORES))


def test_confidence_factor():
    c = np.log(27) / np.tanh(4)
    assert ex.check_confidence_factor(c)
    assert ex.check_confidence_factor(np.array([c]))
    assert ex.check_confidence_factor(round(c, 3))
    assert ex.check_confidence_factor(np.log(27))                                # tanh 4 taken for 1: as good
    small = ex.check_confidence_factor(1.0)
    assert not small and "< 0.9" in small.message
    big = ex.check_confidence_factor(10.0)
    assert not big and "smaller" in big.message
    assert not ex.check_confidence_factor(None) and "None" in ex.check_confidence_factor(None).message
    assert not ex.check_confidence_factor([1.0, 2.0])
    assert not ex.check_confidence_factor(float("nan"))
    assert not ex.check_confidence_factor(1e9)                                   # no overflow warning turned error
