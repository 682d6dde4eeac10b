"""Recurrent ops and layers (thetas/autograd/recurrent.py, thetas/nn/recurrent.py), for RNN (tanh, relu), LSTM, GRU:

  * the fused ops' backward against central differences (float64) for every input: dense, padded (mask),
    one-hot indices, without biases, without initial states;
  * the layers against torch.nn.RNN/LSTM/GRU (float64, 1 and 2 layers, packed variable lengths, batch_first=False):
    outputs, final states and the gradients of everything, with upstream gradients on output AND final states;
  * the cells unrolled step by step against the fused layers; one-hot indices against dense one-hot vectors;
  * float32 kept, contracts and error messages, dropout between layers, long sequences, float64 kept by
    save/load, clipping. (State dict, config, save/load, train/eval and repr: tests/test_layer_contract.py.)
"""
import math

import numpy as np
import pytest

import thetas as th
from thetas.autograd import recurrent as R
from thetas.autograd.gradcheck import gradcheck

MODES = ["rnn-tanh", "rnn-relu", "lstm", "gru"]
GATES = {"rnn-tanh": 1, "rnn-relu": 1, "lstm": 4, "gru": 3}
LAYER = {"rnn-tanh": "RNN", "rnn-relu": "RNN", "lstm": "LSTM", "gru": "GRU"}
CELL = {"rnn-tanh": "RNNCell", "rnn-relu": "RNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}


def kwargs(mode):
    """The constructor arguments besides the sizes (the nonlinearity of an RNN)."""
    return {"nonlinearity": mode.split("-")[1]} if mode.startswith("rnn") else {}


def layer(mode, *args, **kw):
    return getattr(th.nn, LAYER[mode])(*args, **kwargs(mode), **kw)


def finals(mode, final):
    """A layer's final state as a tuple: (h_n,) or (h_n, c_n)."""
    return tuple(final) if mode == "lstm" else (final,)


def fused(mode, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, mask=None):
    """The fused op of ``mode`` with one signature for all (c0 is used by the LSTM only)."""
    if mode == "lstm":
        return R.lstm(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, mask=mask)
    if mode == "gru":
        return R.gru(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, mask=mask)
    return R.rnn(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity=mode.split("-")[1], mask=mask)


def lengths_mask(lengths, t):
    return np.arange(t)[None, :] < np.asarray(lengths)[:, None]   # (B, T)


def one_hot(idx, d):
    """(B, T) indices, −1 for none, as (B, T, D) one-hot vectors (−1: the zero vector)."""
    out = np.zeros(idx.shape + (d,))
    b, t = np.nonzero(idx >= 0)
    out[b, t, idx[b, t]] = 1
    return out


# ---------------------------------------------------------------------- 1. fused ops vs central differences
B, T, D, H = 2, 4, 3, 3
GRADCHECK = {          # variant -> (batch, mask (B, T), integer input, (bias_ih, bias_hh), initial states)
    "dense": (B, None, False, (True, True), True),
    "mask": (3, lengths_mask([4, 1, 2], T), False, (True, True), True),
    "mask-holes": (3, np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 0, 0, 0]]), False, (True, True), True),
    "no-bias": (B, None, False, (False, False), True),
    "bias-ih-only": (B, None, False, (True, False), True),
    "bias-hh-only": (B, None, False, (False, True), True),
    "no-state": (B, None, False, (True, True), False),
    "no-bias-no-state-mask": (3, lengths_mask([2, 4, 1], T), False, (False, False), False),
    "index": (3, None, True, (True, True), True),
    "index-mask": (3, lengths_mask([4, 1, 3], T), True, (True, True), True),
}


def gradcheck_inputs(mode, variant, seed=0):
    b, mask, index, (bias_ih, bias_hh), state = GRADCHECK[variant]
    rng = np.random.default_rng(seed)
    g = GATES[mode] * H
    x = np.array([[0, -1, 2, 0], [2, 1, -1, 1], [-1, 0, 0, 2]])[:b] if index else rng.uniform(-1, 1, (b, T, D))
    h0, c0 = (rng.uniform(-1, 1, (b, H)), rng.uniform(-1, 1, (b, H))) if state else (None, None)
    w = [rng.uniform(-0.8, 0.8, (g, D)), rng.uniform(-0.8, 0.8, (g, H))]
    w += [rng.uniform(-0.5, 0.5, g) if bias_ih else None, rng.uniform(-0.5, 0.5, g) if bias_hh else None]
    if mode != "lstm":
        c0 = None
    return [x, h0, c0, *w], mask


@pytest.mark.parametrize("variant", list(GRADCHECK))
@pytest.mark.parametrize("mode", MODES)
def test_fused_op_gradients_match_central_differences(mode, variant):
    arrays, mask = gradcheck_inputs(mode, variant)
    # every float input is checked (x too, unless it holds indices); None and integer inputs pass through
    inputs = [th.tensor(a, requires_grad=True) if a is not None and a.dtype.kind == "f" else a for a in arrays]

    def op(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
        return fused(mode, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, mask=mask)
    report = gradcheck(op, *inputs, raise_exception=True)
    checked = {r.name for r in report}
    expected = {n for n, a in zip(["x", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"], arrays)
                if a is not None and a.dtype.kind == "f"}
    assert checked == expected


@pytest.mark.parametrize("mode", MODES)
def test_fused_op_single_step_gradients(mode):
    (x, h0, c0, *w), _ = gradcheck_inputs(mode, "dense")
    inputs = [None if a is None else th.tensor(a, requires_grad=True) for a in [x[:, :1], h0, c0, *w]]
    gradcheck(lambda *a: fused(mode, *a), *inputs, raise_exception=True)


@pytest.mark.parametrize("mode", MODES)
def test_fused_op_padding_carries_the_state(mode):
    (x, h0, c0, *w), _ = gradcheck_inputs(mode, "dense")
    mask = np.array([[1, 1, 0, 0], [1, 0, 1, 0]])
    out = fused(mode, th.tensor(x), th.tensor(h0), None if c0 is None else th.tensor(c0),
                *[th.tensor(a) for a in w], mask=mask).data
    np.testing.assert_array_equal(out[0, 2], out[0, 1])          # padded steps: h_t = h_{t-1}
    np.testing.assert_array_equal(out[0, 3], out[0, 1])
    np.testing.assert_array_equal(out[1, 1], out[1, 0])
    np.testing.assert_array_equal(out[1, 3], out[1, 2])
    all_padding = fused(mode, th.tensor(x), th.tensor(h0), None if c0 is None else th.tensor(c0),
                        *[th.tensor(a) for a in w], mask=np.zeros((B, T))).data
    np.testing.assert_array_equal(all_padding[:, :T], np.broadcast_to(h0[:, None], (B, T, H)))
    if mode == "lstm":                                            # the last row is c_T = c0
        np.testing.assert_array_equal(all_padding[:, T], c0)


# ---------------------------------------------------------------------- 2. layers vs PyTorch
LB, LT, LD, LH = 3, 5, 3, 4
LENGTHS = [5, 1, 3]                                               # unsorted, one of length 1


def torch_pair(torch, mode, num_layers=1, **kw):
    """A torch layer (float64, seeded) and a thetas layer with its state dict."""
    torch.manual_seed(0)
    ref = getattr(torch.nn, LAYER[mode])(LD, LH, num_layers=num_layers, dtype=torch.float64,
                                          **kwargs(mode), **{"batch_first": True, **kw})
    ours = layer(mode, LD, LH, num_layers=num_layers, dtype=np.float64, generator=1, **kw)
    state = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
    assert set(state) == set(ours.state_dict())
    ours.load_state_dict(state)
    return ref, ours


def layer_inputs(mode, num_layers, batch_first=True, seed=0):
    """x, the initial states, and random upstream gradients for the output and the final states."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((LB, LT, LD) if batch_first else (LT, LB, LD))
    n_states = 2 if mode == "lstm" else 1
    states = [rng.standard_normal((num_layers, LB, LH)) for _ in range(n_states)]
    r_out = rng.standard_normal(x.shape[:2] + (LH,))
    r_final = [rng.standard_normal((num_layers, LB, LH)) for _ in range(n_states)]
    return x, states, r_out, r_final


def run_ours(model, mode, x, states, r_out, r_final, **kw):
    """Forward and backward of Σ output·r_out + Σ h_n·r_h (+ Σ c_n·r_c): every value and gradient by name."""
    x = th.tensor(x, requires_grad=x.dtype.kind == "f")             # one-hot indices have no gradient
    states = [th.tensor(s, requires_grad=True) for s in states]
    out, final = model(x, tuple(states) if mode == "lstm" else states[0], **kw)
    final = finals(mode, final)
    loss = (out * r_out).sum()
    for f, r in zip(final, r_final):
        loss = loss + (f * r).sum()
    model.zero_grad()
    loss.backward()
    res = {"output": out.data, "grad x": x.grad}
    res.update({f"final {i}": f.data for i, f in enumerate(final)})
    res.update({f"grad state {i}": s.grad for i, s in enumerate(states)})
    res.update({f"grad {n}": p.grad for n, p in model.named_parameters()})
    return res


def run_torch(torch, ref, mode, x, states, r_out, r_final, lengths=None, batch_first=True):
    """As ``run_ours`` for a torch layer; with ``lengths``, through a packed sequence."""
    pack, unpack = torch.nn.utils.rnn.pack_padded_sequence, torch.nn.utils.rnn.pad_packed_sequence
    x = torch.tensor(x, requires_grad=True)
    states = [torch.tensor(s, requires_grad=True) for s in states]
    inp = x if lengths is None else pack(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
    out, final = ref(inp, tuple(states) if mode == "lstm" else states[0])
    if lengths is not None:
        out, _ = unpack(out, batch_first=batch_first, total_length=LT)
    final = finals(mode, final)
    loss = (out * torch.from_numpy(r_out)).sum()
    for f, r in zip(final, r_final):
        loss = loss + (f * torch.from_numpy(r)).sum()
    ref.zero_grad()
    loss.backward()
    res = {"output": out.detach().numpy(), "grad x": x.grad.numpy()}
    res.update({f"final {i}": f.detach().numpy() for i, f in enumerate(final)})
    res.update({f"grad state {i}": s.grad.numpy() for i, s in enumerate(states)})
    res.update({f"grad {n}": p.grad.numpy() for n, p in ref.named_parameters()})
    return res


def assert_same(ours, theirs, rtol=1e-9, atol=1e-11):
    assert set(ours) == set(theirs)
    for k in theirs:
        assert ours[k] is not None, k
        assert ours[k].shape == theirs[k].shape, k
        np.testing.assert_allclose(ours[k], theirs[k], rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("padding", [None, "lengths", "mask"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("mode", MODES)
def test_layer_matches_torch(mode, num_layers, padding):
    torch = pytest.importorskip("torch")
    ref, ours = torch_pair(torch, mode, num_layers)
    x, states, r_out, r_final = layer_inputs(mode, num_layers)
    kw = {"lengths": {"lengths": LENGTHS}, "mask": {"mask": lengths_mask(LENGTHS, LT)}, None: {}}[padding]
    got = run_ours(ours, mode, x, states, r_out, r_final, **kw)
    expected = run_torch(torch, ref, mode, x, states, r_out, r_final, lengths=None if padding is None else LENGTHS)
    assert_same(got, expected)
    if padding is not None:
        assert not got["output"][1, 1:].any() and not got["grad x"][1, 1:].any()   # padded: 0 out, no gradient


@pytest.mark.parametrize("mode", MODES)
def test_batch_first_false_matches_torch(mode):
    torch = pytest.importorskip("torch")
    ref, ours = torch_pair(torch, mode, num_layers=2, batch_first=False)
    x, states, r_out, r_final = layer_inputs(mode, 2, batch_first=False)
    got = run_ours(ours, mode, x, states, r_out, r_final)
    assert got["output"].shape == (LT, LB, LH)
    assert_same(got, run_torch(torch, ref, mode, x, states, r_out, r_final, batch_first=False))
    got = run_ours(ours, mode, x, states, r_out, r_final, lengths=LENGTHS)       # lengths and mask stay (B,)/(B, T)
    assert_same(got, run_torch(torch, ref, mode, x, states, r_out, r_final, lengths=LENGTHS, batch_first=False))


@pytest.mark.parametrize("mode", MODES)
def test_layer_without_bias_or_initial_state_matches_torch(mode):
    torch = pytest.importorskip("torch")
    ref, ours = torch_pair(torch, mode, num_layers=2, bias=False)
    assert not any("bias" in k for k in ours.state_dict())
    x = np.random.default_rng(3).standard_normal((LB, LT, LD))
    out, final = ours(x)
    expected, expected_final = ref(torch.from_numpy(x))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for f, e in zip(finals(mode, final), finals(mode, expected_final)):
        np.testing.assert_allclose(f.data, e.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_cell_matches_torch_cell(mode):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = getattr(torch.nn, CELL[mode])(LD, LH, dtype=torch.float64, **kwargs(mode))
    cell = getattr(th.nn, CELL[mode])(LD, LH, dtype=np.float64, **kwargs(mode))
    state = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
    assert set(state) == set(cell.state_dict())
    cell.load_state_dict(state)
    rng = np.random.default_rng(0)
    x, h, c = (rng.standard_normal(s) for s in [(LB, LD), (LB, LH), (LB, LH)])
    ours = cell(x, (th.tensor(h), th.tensor(c)) if mode == "lstm" else th.tensor(h))
    h, c = torch.from_numpy(h), torch.from_numpy(c)
    theirs = ref(torch.from_numpy(x), (h, c) if mode == "lstm" else h)
    for o, t in zip(finals(mode, ours), finals(mode, theirs)):
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------- 3. cells unrolled vs fused layers
@pytest.mark.parametrize("mode", MODES)
def test_cell_unrolled_equals_fused_layer(mode):
    model = layer(mode, LD, LH, dtype=np.float64, generator=0)
    cell = getattr(th.nn, CELL[mode])(LD, LH, dtype=np.float64, generator=1, **kwargs(mode))
    cell.load_state_dict({k[:-3]: v for k, v in model.state_dict().items()})      # weight_ih_l0 -> weight_ih
    x, states, r_out, r_final = layer_inputs(mode, 1)
    expected = run_ours(model, mode, x, states, r_out, r_final)

    xt = th.tensor(x, requires_grad=True)
    st = [th.tensor(s[0], requires_grad=True) for s in states]
    state = tuple(st) if mode == "lstm" else st[0]
    outs = []
    for s in range(LT):                                           # x[:, s]: (B, D) -> h: (B, H)
        state = cell(xt[:, s], state)
        outs.append(state[0] if mode == "lstm" else state)
    out = th.stack(outs, axis=1)
    final = finals(mode, state)
    loss = (out * r_out).sum()
    for f, r in zip(final, r_final):
        loss = loss + (f * r[0]).sum()
    loss.backward()
    got = {"output": out.data, "grad x": xt.grad}
    got.update({f"final {i}": f.data[None] for i, f in enumerate(final)})
    got.update({f"grad state {i}": s.grad[None] for i, s in enumerate(st)})
    got.update({f"grad {n}_l0": p.grad for n, p in cell.named_parameters()})
    assert_same(got, expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- 4. one-hot indices vs dense one-hot
IDX = np.array([[0, 2, -1, 2, 4], [-1, -1, 3, 0, 0], [1, 4, 4, -1, 2]])       # (B, T); 5 is never used


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("lengths", [None, [5, 1, 3]])
@pytest.mark.parametrize("mode", MODES)
def test_index_input_equals_dense_one_hot(mode, lengths, batch_first):
    model = layer(mode, 6, LH, num_layers=2, batch_first=batch_first, dtype=np.float64, generator=0)
    _, states, r_out, r_final = layer_inputs(mode, 2, batch_first=batch_first)
    idx = IDX if batch_first else IDX.T
    dense = one_hot(IDX, 6) if batch_first else one_hot(IDX, 6).transpose(1, 0, 2)
    got = run_ours(model, mode, idx, states, r_out, r_final, lengths=lengths)
    expected = run_ours(model, mode, dense, states, r_out, r_final, lengths=lengths)
    assert got.pop("grad x") is None                              # indices have no gradient
    expected.pop("grad x")
    assert_same(got, expected, rtol=1e-12, atol=1e-14)
    assert not got["grad weight_ih_l0"][:, 5].any() and got["grad weight_ih_l0"][:, :5].all(axis=0).any()


@pytest.mark.parametrize("mode", MODES)
def test_index_out_of_range_names_index_and_input_size(mode):
    model = layer(mode, 5, LH, generator=0)
    with pytest.raises(ValueError, match=r"index 5 .*input_size 5"):
        model(np.array([[0, 5, 1]]))
    with pytest.raises(ValueError, match=r"index -2 .*input_size 5"):
        model(np.array([[0, -2, 1]]))
    (_, h0, c0, *w), _ = gradcheck_inputs(mode, "index")
    with pytest.raises(ValueError, match=r"index 3 .*input_size 3"):
        fused(mode, np.array([[0, 3, 1, 0]] * 3), th.tensor(h0), c0 if c0 is None else th.tensor(c0),
              *[th.tensor(a) for a in w])
    with pytest.raises(ValueError, match=r"\(batch, time\)"):    # integer input must be indices (B, T)
        fused(mode, np.zeros((3, T, D), np.int64), th.tensor(h0), c0 if c0 is None else th.tensor(c0),
              *[th.tensor(a) for a in w])


# ---------------------------------------------------------------------- 5. float32 stays float32
@pytest.mark.parametrize("mode", MODES)
def test_float32_stays_float32(mode):
    model = layer(mode, LD, LH, num_layers=2, dtype=np.float32, generator=0)
    model64 = layer(mode, LD, LH, num_layers=2, dtype=np.float64, generator=0)
    model64.load_state_dict(model.state_dict())
    x, states, r_out, r_final = layer_inputs(mode, 2)
    def f32(arrays):
        return [a.astype(np.float32) for a in arrays]
    got = run_ours(model, mode, x.astype(np.float32), f32(states), r_out.astype(np.float32), f32(r_final),
                   lengths=LENGTHS)
    for k, v in got.items():
        assert v.dtype == np.float32, k
    assert all(p.dtype == np.float32 for p in model.parameters())
    expected = run_ours(model64, mode, x, states, r_out, r_final, lengths=LENGTHS)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-4, atol=1e-5, err_msg=k)
    # one-hot indices, and a float64 array into a float32 layer (cast, as any layer input)
    model = layer(mode, 5, LH, dtype=np.float32, generator=0)
    got = run_ours(model, mode, IDX, f32([s[:1] for s in states]), r_out.astype(np.float32),
                   f32([r[:1] for r in r_final]))
    assert got.pop("grad x") is None
    for k, v in got.items():
        assert v.dtype == np.float32, k
    out, _ = model(np.zeros((2, 3, 5)))
    assert out.dtype == np.float32


@pytest.mark.parametrize("padding", ["lengths", "mask"])
def test_float32_index_input_with_padding_stays_float32(padding):
    model = th.nn.LSTM(5, LH, dtype=np.float32, generator=0)
    kw = {"lengths": LENGTHS} if padding == "lengths" else {"mask": lengths_mask(LENGTHS, LT)}
    out, (h, c) = model(IDX, **kw)
    assert h.dtype == c.dtype == np.float32
    assert out.dtype == np.float32


# ---------------------------------------------------------------------- 6. contracts and errors
@pytest.mark.parametrize("mode", MODES)
def test_wrong_feature_size_names_both_sizes(mode):
    model = layer(mode, 3, LH, generator=0)
    with pytest.raises(ValueError, match=r"5 features.*input_size=3"):
        model(np.zeros((2, 4, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        model(np.zeros((2, 4), np.float32))
    (_, h0, c0, *w), _ = gradcheck_inputs(mode, "dense")
    with pytest.raises(ValueError, match=rf"5 features.*\({GATES[mode] * H}, 3\)"):
        fused(mode, th.tensor(np.zeros((B, T, 5))), th.tensor(h0), c0 if c0 is None else th.tensor(c0),
              *[th.tensor(a) for a in w])
    with pytest.raises(ValueError, match="no time steps"):
        fused(mode, th.tensor(np.zeros((B, 0, D))), th.tensor(h0), c0 if c0 is None else th.tensor(c0),
              *[th.tensor(a) for a in w])


@pytest.mark.parametrize("mode", MODES)
def test_wrong_initial_state_shape(mode):
    model = layer(mode, LD, LH, num_layers=2, dtype=np.float64, generator=0)
    x = np.zeros((LB, LT, LD))

    def call(h, c=None):
        c = np.zeros((2, LB, LH)) if c is None else c
        return model(x, (th.tensor(h), th.tensor(c)) if mode == "lstm" else th.tensor(h))
    call(np.zeros((2, LB, LH)))
    with pytest.raises(ValueError, match=r"num_layers=2"):
        call(np.zeros((1, LB, LH)))
    with pytest.raises(ValueError, match=rf"\({LB}, {LH}\), got \({LB + 1}, {LH}\)"):
        call(np.zeros((2, LB + 1, LH)))
    with pytest.raises(ValueError, match=rf"\({LB}, {LH}\), got \({LB}, {LH + 1}\)"):
        call(np.zeros((2, LB, LH + 1)))
    if mode == "lstm":
        with pytest.raises(ValueError, match=rf"cell state must have shape \({LB}, {LH}\)"):
            call(np.zeros((2, LB, LH)), np.zeros((2, LB, LH + 1)))


@pytest.mark.parametrize("mode", MODES)
def test_mask_and_lengths_are_checked(mode):
    model = layer(mode, LD, LH, dtype=np.float64, generator=0)
    x = np.zeros((LB, LT, LD))
    with pytest.raises(ValueError, match=rf"mask must have shape \({LB}, {LT}\)"):
        model(x, mask=np.ones((LB, LT + 1)))
    with pytest.raises(ValueError, match=rf"mask must have shape \({LB}, {LT}\)"):
        model(x, mask=np.ones((LT, LB)))
    for bad in ([0, 2, 3], [1, 2, LT + 1], [1, 2], [-1, 2, 3]):
        with pytest.raises(ValueError, match=rf"lengths must be {LB} numbers in 1..{LT}"):
            model(x, lengths=bad)
    with pytest.raises(ValueError, match="mask or lengths, not both"):
        model(x, mask=np.ones((LB, LT)), lengths=[1, 2, 3])
    (_, h0, c0, *w), _ = gradcheck_inputs(mode, "dense")
    with pytest.raises(ValueError, match=rf"mask must have shape \({B}, {T}\)"):
        fused(mode, th.tensor(np.zeros((B, T, D))), th.tensor(h0), c0 if c0 is None else th.tensor(c0),
              *[th.tensor(a) for a in w], mask=np.ones((B, T - 1)))


def test_bad_hyperparameters():
    for make in (lambda: th.nn.RNN(3, 4, nonlinearity="gelu"), lambda: th.nn.RNNCell(3, 4, nonlinearity="gelu"),
                 lambda: R.rnn(np.zeros((1, 2, 3)), None, th.tensor(np.zeros((4, 3))), th.tensor(np.zeros((4, 4))),
                               nonlinearity="sigmoid")):
        with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
            make()
    for p in (-0.1, 1.0):
        with pytest.raises(ValueError, match="dropout must be in"):
            th.nn.LSTM(3, 4, num_layers=2, dropout=p)


def test_parameter_names_shapes_and_init():
    model = th.nn.GRU(3, 5, num_layers=2, generator=0)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {"weight_ih_l0": (15, 3), "weight_hh_l0": (15, 5), "bias_ih_l0": (15,), "bias_hh_l0": (15,),
                      "weight_ih_l1": (15, 5), "weight_hh_l1": (15, 5), "bias_ih_l1": (15,), "bias_hh_l1": (15,)}
    assert all(np.abs(p.data).max() <= 1 / math.sqrt(5) for p in model.parameters())
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert list(th.nn.LSTM(3, 5, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert "num_layers=2" in repr(model)


@pytest.mark.parametrize("mode", MODES)
def test_dropout_between_layers_only_in_training(mode):
    model = layer(mode, LD, LH, num_layers=2, dropout=0.5, dtype=np.float64, generator=0)
    plain = layer(mode, LD, LH, num_layers=2, dtype=np.float64, generator=1)
    plain.load_state_dict(model.state_dict())
    x = np.random.default_rng(0).standard_normal((LB, LT, LD))
    def final(f):                                                 # h_n
        return f[0] if mode == "lstm" else f

    model.eval()
    (out1, f1), (out2, _) = model(x), model(x)
    np.testing.assert_array_equal(out1.data, out2.data)          # eval: deterministic, as without dropout
    np.testing.assert_array_equal(out1.data, plain(x)[0].data)
    model.train()
    out3, f3 = model(x)
    assert not np.allclose(out3.data, out1.data)                  # train: the second layer sees dropped inputs
    np.testing.assert_array_equal(final(f3).data[0], final(f1).data[0])   # ... the first layer is untouched
    assert not np.allclose(final(f3).data[1], final(f1).data[1])
    out3.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad).all() for p in model.parameters())

    one = layer(mode, LD, LH, num_layers=1, dropout=0.5, dtype=np.float64, generator=0)   # no layer after it
    np.testing.assert_array_equal(one.train()(x)[0].data, one.eval()(x)[0].data)


@pytest.mark.parametrize("mode", MODES)
def test_long_sequence_forward_and_backward(mode):
    steps = 1000
    model = layer(mode, LD, LH, num_layers=2, dtype=np.float64, generator=0)
    x = th.tensor(np.random.default_rng(0).standard_normal((2, steps, LD)) * 0.5, requires_grad=True)
    out, final = model(x, lengths=[steps, steps // 2])
    assert out.shape == (2, steps, LH)
    loss = out.sum() + (final[0] if mode == "lstm" else final).sum()
    loss.backward()
    assert np.isfinite(out.data).all() and x.grad.shape == x.shape and np.isfinite(x.grad).all()
    assert not x.grad[1, steps // 2:].any()
    assert all(p.grad is not None and np.isfinite(p.grad).all() for p in model.parameters())


def test_long_unrolled_cell_backward_has_no_recursion_limit():
    steps = 1000
    cell = th.nn.LSTMCell(2, 3, dtype=np.float64, generator=0)
    x = th.tensor(np.random.default_rng(0).standard_normal((1, steps, 2)), requires_grad=True)
    state = None
    for s in range(steps):                                        # ~20,000 graph nodes
        state = cell(x[:, s], state)
    state[0].sum().backward()
    assert np.isfinite(x.grad).all() and np.isfinite(cell.weight_hh.grad).all()


def test_float64_model_save_load_keeps_dtype(tmp_path):
    model = th.nn.LSTM(LD, LH, dtype=np.float64, generator=0)
    th.save(model, tmp_path / "lstm64.safetensors")
    again = th.load(tmp_path / "lstm64.safetensors")
    assert all(p.dtype == np.float64 for p in again.parameters())


# ---------------------------------------------------------------------- 7. gradient clipping vs torch
@pytest.mark.parametrize("max_norm", [0.1, 1e6])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_matches_torch_on_lstm_gradients(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ref, ours = torch_pair(torch, "lstm", num_layers=2)
    x, states, r_out, r_final = layer_inputs("lstm", 2)
    run_ours(ours, "lstm", x, states, r_out, r_final, lengths=LENGTHS)
    before = {n: p.grad.copy() for n, p in ours.named_parameters()}
    tparams = dict(ref.named_parameters())
    for n, g in before.items():
        tparams[n].grad = torch.from_numpy(g.copy())
    total = th.nn.utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(expected.item(), rel=1e-12)
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[n].grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=n)
        if max_norm > total:
            np.testing.assert_array_equal(p.grad, before[n])      # below the limit: untouched
