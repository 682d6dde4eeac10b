"""Exported models against thetas on real data (issue 16's measurements): a LeNet and an MLP on all 10,000 MNIST
test images (the same argmax in PyTorch and in ONNX Runtime, the largest logit difference), and a DKT's test AUC
on synthetic-5 in thetas, PyTorch and ONNX Runtime (equal to 4 decimals).

    python scripts/export_agreement.py --lenet lenet.safetensors --mlp mlp.safetensors --dkt dkt.safetensors

Models: ``thetas train mnist --model lenet --save ...``, ``thetas train mnist --save ...``, ``thetas dkt --data
synthetic-5 --save ...``. Data through THETAS_DATA. Prints one JSON object.
"""
import argparse
import json
import os
import tempfile

import numpy as np
import onnxruntime as ort
import torch

import thetas as th


def session(model, example, folder, name):
    path = th.export.to_onnx(model, os.path.join(folder, name), example)
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"]), os.path.getsize(path)


def images(path, folder):
    model = th.load(path).eval()
    task = th.data.load("mnist")
    X = np.asarray(task.test.X, np.float32)
    ours = th.predict(model, X, batch_size=1000)
    net = th.export.to_torch(model).eval()
    with torch.no_grad():
        theirs = np.concatenate([net(torch.from_numpy(X[i:i + 1000])).numpy() for i in range(0, len(X), 1000)])
    s, size = session(model, X[:2], folder, "m.onnx")
    onnx_out = np.concatenate([s.run(None, {"input": X[i:i + 1000]})[0] for i in range(0, len(X), 1000)])
    return {"images": len(X), "accuracy": float((ours.argmax(1) == task.test.y).mean()),
            "torch_same_argmax": int((theirs.argmax(1) == ours.argmax(1)).sum()),
            "onnx_same_argmax": int((onnx_out.argmax(1) == ours.argmax(1)).sum()),
            "torch_max_abs_difference": float(np.abs(theirs - ours).max()),
            "onnx_max_abs_difference": float(np.abs(onnx_out - ours).max()), "onnx_bytes": size}


def dkt(path, folder):
    """The pooled next-answer AUC of synthetic-5's 2,000 test students (windows of 200, as thetas dkt scores them)
    from the logits of each runtime."""
    from thetas.knowledge import WindowLoader, next_step, synthetic_5
    from thetas.knowledge.train import _windows
    from thetas.metrics import roc_auc
    model = th.load(path).eval()
    X = _windows(synthetic_5(0)[1], 200)
    net = th.export.to_torch(model).eval()
    s, size = session(model, X[:2], folder, "dkt.onnx")
    scores, labels = {"thetas": [], "torch": [], "onnx": []}, []
    for xb, _ in WindowLoader(X, 64, shuffle=False):
        rows, steps, q, a = next_step(xb)
        with torch.no_grad():
            outs = {"thetas": model(xb).data, "torch": net(torch.from_numpy(xb)).numpy(),
                    "onnx": s.run(None, {"input": xb})[0]}
        for key, z in outs.items():
            scores[key].append(z[rows, steps, q].astype(np.float64))
        labels.append(a)
    y = np.concatenate(labels)
    return {"answers_scored": int(len(y)), "onnx_bytes": size,
            **{f"{k}_auc": round(float(roc_auc(y, np.concatenate(v))), 6) for k, v in scores.items()}}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lenet")
    p.add_argument("--mlp")
    p.add_argument("--dkt")
    args = p.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for key in ("lenet", "mlp"):
            if getattr(args, key):
                out[key] = images(getattr(args, key), folder)
        if args.dkt:
            out["dkt"] = dkt(args.dkt, folder)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
