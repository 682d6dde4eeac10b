"""``thetas export MODEL --to torch|onnx OUT``: a saved thetas model for PyTorch (``torch.export``: a .pt2 file
that ``torch.export.load(OUT).module()`` runs without thetas) or for ONNX Runtime, checked: the file is read back
and run on a random batch against thetas.

    thetas export lenet.safetensors --to onnx lenet.onnx
    thetas export dkt.safetensors --to torch dkt.pt2
"""
import os
import time

import numpy as np

from .common import CLIError, add_json, check_writable, load_model, report

DKT_STEPS = 200     # --to torch: a DKT takes this many steps (a shorter student padded with question −1)


def add_parser(subparsers):
    e = subparsers.add_parser("export", help="a saved model for PyTorch (torch.export) or ONNX Runtime, checked",
                              description="Writes MODEL for PyTorch (--to torch: a torch.export program, .pt2, "
                              "torch.export.load(OUT).module() runs it without thetas; needs torch) or ONNX (--to "
                              "onnx: onnx.checker's full check; needs "
                              "pip install \"thetas[export]\"), then runs the written file on a random batch and "
                              "reports the largest difference from thetas' outputs.")
    e.add_argument("model", metavar="MODEL", help="a model saved by thetas train / thetas dkt --save PATH")
    e.add_argument("--to", required=True, choices=("torch", "onnx"), help="torch (torch.export, .pt2) or onnx")
    e.add_argument("out", metavar="OUT", help="the file to write (.pt2 for torch, .onnx for onnx)")
    add_json(e)
    e.set_defaults(func=run)
    return e


def example_batch(model, n=4, seed=0):
    """A random batch the model takes: [question, answer] pairs for a DKT, else numbers in [0, 1] of the shape
    its first layer says (``th.inside.input_shape``)."""
    from ..inside import input_shape
    rng = np.random.default_rng(seed)
    if type(model).__name__ == "DKT":     # DKT_STEPS answers a student, the window thetas dkt trains on
        q = rng.integers(0, model.num_questions, size=(n, DKT_STEPS))
        return np.stack([q, rng.integers(0, 2, size=(n, DKT_STEPS))], axis=-1).astype(np.int64)
    try:
        shape = input_shape(model)
    except ValueError as e:
        raise CLIError(f"cannot export: {e}") from None
    dtype = next((p.data.dtype for p in model.parameters()), np.float32)
    return rng.uniform(0, 1, size=(n, *shape)).astype(dtype)


def _first(out):
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def run(args):
    from ..autograd.grad_mode import no_grad
    from ..export import ExportError
    check_writable("OUT", args.out)
    model, _ = load_model(args.model)
    model.eval()
    x = example_batch(model)
    bigger = np.concatenate([x, x[:1]])          # checked on another batch size: the batch axis must be free
    t0 = time.perf_counter()
    try:
        read_back = _torch(model, x, args.out) if args.to == "torch" else _onnx(model, x, args.out)
        theirs = np.asarray(read_back(bigger), np.float64)
    except ExportError as e:
        raise CLIError(f"{args.model}: {e}") from None
    except ImportError as e:
        raise CLIError(f"--to {args.to}: {e}") from None
    with no_grad():
        ours = np.asarray(_first(model(bigger)).data, np.float64)
    diff = float(np.abs(ours - theirs).max())
    result = {"model": args.model, "to": args.to, "out": args.out, "bytes": os.path.getsize(args.out),
              "checked_on": list(bigger.shape), "max_abs_difference": diff,
              "seconds": round(time.perf_counter() - t0, 3)}
    report(args, result, [f"wrote {args.out} ({result['bytes']:,} bytes)",
                          f"outputs within {diff:.2g} of thetas on a random batch of {len(bigger)}"])
    return 0


def _torch(model, x, out):
    """Write ``torch.export`` of ``to_torch(model)`` on ``x`` with a free batch axis (a DKT's steps stay those of
    ``x``: the LSTM fixes them), atomically; returns the function that runs the file read back with
    ``torch.export.load`` on a batch."""
    from ..export import to_torch
    from ..io import _write_atomic
    try:
        import torch
    except ImportError:
        raise ImportError("needs PyTorch: pip install torch") from None
    import io
    net = to_torch(model).eval()
    program = torch.export.export(net, (torch.from_numpy(x),), dynamic_shapes=({0: torch.export.Dim("batch")},))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    _write_atomic(out, [buffer.getvalue()])
    loaded = torch.export.load(out).module()

    def read_back(batch):
        with torch.no_grad():
            return _first(loaded(torch.from_numpy(batch))).numpy()
    return read_back


def _onnx(model, x, out):
    """Write ``to_onnx(model, out, x)``; returns the function that runs the file in onnxruntime on a batch."""
    from ..export import to_onnx
    to_onnx(model, out, x)
    try:
        import onnxruntime as ort
    except ImportError:
        raise ImportError("the ONNX file was written but cannot be checked without onnxruntime: "
                          "pip install \"thetas[export]\"") from None
    session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    return lambda batch: session.run(None, {"input": batch})[0]
