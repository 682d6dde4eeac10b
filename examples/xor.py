"""Why networks need hidden layers and non-linearities: xor, three ways.

    one neuron (logistic regression)      a straight line: near chance
    a 3-layer network without activations  still one linear map: near chance
    one hidden layer of 8 tanh neurons     bends the boundary: ~98 %

    python examples/xor.py [--plot xor.png]
"""
import argparse

import thetas as th
from thetas.models import MLP, LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--plot", help="write the three decision boundaries to this PNG")
args = parser.parse_args()

task = th.data.load("xor", seed=0)
train = th.data.DataLoader(task.train, batch_size=16, shuffle=True, seed=0)
models = {
    "logistic regression": (LogisticRegression(2, generator=0), "bce"),
    "linear 2-8-8-2": (MLP([2, 8, 8, 2], activation="linear", generator=0), "cross_entropy"),
    "tanh 2-8-2": (MLP([2, 8, 2], activation="tanh", generator=0), "cross_entropy"),
}
for name, (model, loss) in models.items():
    def loss_fn(z, y, loss=loss):
        return th.losses.get(loss)(z, y.astype("float32") if loss == "bce" else y)
    th.fit(model, loss_fn, th.optim.Adam(model.parameters(), lr=0.03), train, epochs=100, metrics=(), verbose=False)
    out = th.predict(model, task.test.X)
    pred = (out > 0).astype(int) if out.ndim == 1 else out.argmax(1)
    print(f"{name:22s} {model.num_parameters():3d} thetas   test accuracy {th.metrics.accuracy(task.test.y, pred):.2f}")

if args.plot:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, (name, (model, _)) in zip(axes, models.items()):
        th.viz.plot_decision_boundary(model, task.test.X, task.test.y, ax=ax)
        ax.set_title(name)
    th.viz.savefig(fig, args.plot)
    print("wrote", args.plot)
