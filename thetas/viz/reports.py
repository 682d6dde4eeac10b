"""The pictures of a training run, written to files: what ``thetas train --plot PATH`` shows.

    history = th.fit(model, objective, optimizer, train_loader, val_loader=test_loader)
    th.viz.save_training_plots("plots/", history, model, task, objective)
"""
import os

import numpy as np

from .plots import _pyplot, plot_confusion_matrix, plot_decision_boundary, plot_history, plot_weights, savefig
from .vision import plot_feature_maps, plot_filters, plot_misclassified


def _saver(plt, folder, written):
    """``save(fig, name)``: write ``fig`` as ``folder/name``, close it, and add the path to ``written``."""
    def save(fig, name):
        written.append(savefig(fig, os.path.join(folder, name)))
        plt.close(fig)
    return save


def save_training_plots(path, history, model, task, objective, test_outputs=None):
    """The pictures of a trained classifier or regressor on ``task`` (a ``th.data.Task``); returns what it wrote.

    2-D data and a ``path`` ending in .png: one PNG, the learning curves (and the decision boundary on the test
    points, for a classification). Otherwise ``path`` is a folder of PNGs: ``history.png`` (train vs test),
    for a classification ``confusion_matrix.png`` and, for images, ``misclassified.png``; for a conv net
    ``filters.png`` (its first layer) and ``feature_maps.png`` (of the first test image). ``test_outputs``: the
    model's outputs on ``task.test.X`` when already computed (``th.predict``).
    Returns: the path (one PNG) or the list of files written.
    """
    from .. import metrics
    from ..models.builder import image_shape
    from ..nn.conv import Conv2d
    from ..train import predict
    plt = _pyplot()
    two_d = task.num_features == 2 and task.task == "classification"
    if str(path).lower().endswith(".png") and not task.train.X.ndim > 2:
        fig, axes = plt.subplots(1, 2 if two_d else 1, figsize=(11 if two_d else 6, 4.5))
        axes = np.atleast_1d(axes)
        plot_history(history, ax=axes[0])
        if two_d:
            plot_decision_boundary(model, task.test.X, task.test.y, ax=axes[1])
            axes[1].set_title(f"{task.name}: decision boundary (test points)")
        savefig(fig, path)
        plt.close(fig)
        return path
    written = []
    save = _saver(plt, path, written)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot_history(history, ax=ax)
    ax.set_title(f"{task.name}: train vs test")
    save(fig, "history.png")
    if objective.task == "classification":
        if test_outputs is None:
            test_outputs = predict(model, task.test.X, batch_size=512)
        names = [str(c) for c in task.classes] if task.classes is not None else None
        pred = objective.predict(test_outputs)
        fig, ax = plt.subplots(figsize=(6.5, 6))
        plot_confusion_matrix(metrics.confusion_matrix(task.test.y, pred, num_classes=task.num_classes),
                              class_names=names, ax=ax)
        save(fig, "confusion_matrix.png")
        image = image_shape(task)
        if not objective.binary_logit and image is not None:
            X = task.test.X if task.test.X.ndim == 4 else task.test.X.reshape(len(task.test.X), *image)
            save(plot_misclassified(test_outputs, X, task.test.y, class_names=names), "misclassified.png")
    convs = [m for m in model.modules() if isinstance(m, Conv2d)]
    if convs:
        save(plot_filters(convs[0]), "filters.png")
        save(plot_feature_maps(model, task.test.X[:1]), "feature_maps.png")
    return written


def save_autoencoder_plots(path, history, model, task, n=12):
    """The pictures of a trained ``Autoencoder``, in the folder ``path``: ``history.png`` (−LL per image, train vs
    test), ``reconstructions.png`` (the first ``n`` test images above what the network rebuilt from its few active
    units) and ``weights.png`` (the encoder's first 64 units θ_j, each drawn as an image: the prototypes).
    Returns the list of files written."""
    from ..models.builder import image_shape
    plt = _pyplot()
    written = []
    save = _saver(plt, path, written)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot_history(history, ax=ax)
    ax.set_title(f"{task.name}: −LL per image; train with {100 * model.noise:.0f} % of the pixels dropped, "
                 "test with none", fontsize=10)
    save(fig, "history.png")
    shape = image_shape(task)
    if shape is None:
        return written
    side = shape[1:]
    x = task.test.X[:n]
    fig, axes = plt.subplots(2, len(x), figsize=(1.1 * len(x), 2.6), squeeze=False)
    for j, (a, b) in enumerate(zip(x, model.reconstruct(x))):
        for row, img in ((0, a), (1, b)):
            axes[row, j].imshow(np.asarray(img).reshape(side), cmap="gray_r", vmin=0, vmax=1)
            axes[row, j].axis("off")
    axes[0, 0].set_title("test image", fontsize=8, loc="left")
    axes[1, 0].set_title(f"rebuilt from {model.k} units", fontsize=8, loc="left")
    save(fig, "reconstructions.png")
    linear = next(m for m in model.encoder.modules() if hasattr(m, "in_features"))
    save(plot_weights(linear.weight.data[:64], side), "weights.png")
    return written
