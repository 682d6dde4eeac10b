"""The checks of notebooks/10_knowledge_tracing.ipynb's exercises accept right answers and reject wrong ones."""
import numpy as np

import thetas as th
from thetas.exercises import knowledge_tracing as ex


def test_one_hot():
    def right_numpy(q, a, M):
        x = np.zeros(2 * M)
        x[q + M * a] = 1
        return x

    def right_list(q, a, M):
        return [1 if i == q + M * a else 0 for i in range(2 * M)]

    assert ex.check_one_hot(right_numpy)
    assert ex.check_one_hot(right_list)
    assert ex.check_one_hot(lambda q, a, M: np.eye(2 * M, dtype=np.float32)[q + M * a])

    v = ex.check_one_hot(lambda q, a, M: np.eye(2 * M)[2 * q + a])
    assert not v and "2q + a" in v.message
    v = ex.check_one_hot(lambda q, a, M: right_numpy(q, 1 - a, M))
    assert not v and "swapped" in v.message
    v = ex.check_one_hot(lambda q, a, M: np.eye(M)[q])
    assert not v and "2M" in v.message
    v = ex.check_one_hot(lambda q, a, M: q + M * a)
    assert not v and "index" in v.message
    v = ex.check_one_hot(lambda q, a, M: np.ones(2 * M))
    assert not v and "one-hot" in v.message
    v = ex.check_one_hot(lambda q, a, M: np.eye(2 * M)[(q + M * a + 1) % (2 * M)])
    assert not v and "half" in v.message
    v = ex.check_one_hot(lambda q, a, M: [][0])
    assert not v and "IndexError" in v.message
    v = ex.check_one_hot(lambda q, a, M: None)
    assert not v and "return" in v.message
    v = ex.check_one_hot(None)
    assert not v and "None" in v.message


def test_one_hot_is_what_the_dkt_reads():
    # the encoding the check accepts is the network's: an RNN DKT's first step is tanh(W_ih x + b_ih + b_hh)
    M = 3
    model = th.models.DKT(M, hidden_size=4, cell="rnn", generator=0)
    for q in range(M):
        for a in (0, 1):
            x = np.zeros(2 * M)
            x[q + M * a] = 1
            h = np.tanh(model.rnn.weight_ih_l0.data @ x + model.rnn.bias_ih_l0.data + model.rnn.bias_hh_l0.data)
            z = model.out.weight.data @ h + model.out.bias.data
            assert np.allclose(model(np.array([[[q, a]]]))[0, 0].data, z, atol=1e-6)


def test_auc():
    assert ex.check_auc(th.metrics.roc_auc(ex.AUC_LABELS, ex.AUC_SCORES))
    assert ex.check_auc(5.5 / 6)
    assert ex.check_auc(np.float32(0.9167))
    v = ex.check_auc(5 / 6)
    assert not v and "tie" in v.message
    v = ex.check_auc(1.0)
    assert not v and "one half" in v.message
    v = ex.check_auc(0.8)
    assert not v and "accuracy" in v.message
    v = ex.check_auc(0.5)
    assert not v and "pairs" in v.message
    v = ex.check_auc(1.5)
    assert not v and "between 0 and 1" in v.message
    v = ex.check_auc(None)
    assert not v and "None" in v.message
    v = ex.check_auc([0.5, 0.5])
    assert not v and "one number" in v.message
