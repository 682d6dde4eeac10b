"""A network for a named data set: the model ``thetas train`` trains, for Python users too.

    task = th.data.load("digits")
    objective = th.Objective(task.task, task.num_classes, "cross_entropy")
    model = th.models.build_model(task, objective, "mlp", hidden=[256], activation="relu", dropout=0.25)
"""
from ..nn.containers import Sequential
from ..nn.conv import Flatten
from .autoencoder import Autoencoder
from .lenet import LeNet
from .logistic import LogisticRegression
from .mlp import MLP

ARCHITECTURES = ("mlp", "logistic", "lenet", "autoencoder")


def image_shape(task):
    """(C, H, W) of a data set of square images (MNIST's (1, 28, 28), the digits' (1, 8, 8)), else None."""
    X = task.train.X
    if X.ndim == 4:
        return tuple(X.shape[1:])
    shape = getattr(task.train, "image_shape", None)
    if shape is not None and len(shape) == 2 and shape[0] == shape[1] and shape[0] >= 8:
        return (1, *shape)
    return None


def build_model(task, objective, model="mlp", hidden=(), channels=(6, 16), activation="relu", dropout=0.0, seed=0,
                active=3, noise=0.8):
    """A network for ``task`` (a ``th.data.Task``) whose last layer has ``objective.outputs`` units.

    ``"mlp"``: dense layers ``[num_features, *hidden, outputs]`` with ``activation`` and ``dropout``.
    ``"logistic"``: one neuron per class (``LogisticRegression``; one linear output for a regression).
    ``"lenet"``: a LeNet for square images, its two conv layers with ``channels`` output channels (5×5 kernels
    from 16×16 images up, else 3×3), then dense layers ``hidden``.
    ``"autoencoder"``: a k-sparse ``Autoencoder`` of images in [0, 1] (it learns without the labels; ``objective``
    is not used): ``hidden[0]`` code units (default 400), ``active`` of them kept per image, a share ``noise`` of
    the pixels dropped in training, every image rescaled to length 10 (MNIST's images average 9.2).
    Images (N, C, H, W) are flattened before a dense network, and the data set's ``preprocess`` (a CSV's
    ``Standardize``) comes first. ``seed`` draws the initial thetas. Raises ValueError for a LeNet on data that
    are not square images.
    """
    hidden = [int(h) for h in hidden]
    image = image_shape(task)
    if model == "lenet":
        if image is None or image[1] != image[2]:
            raise ValueError(f"a LeNet needs square images (mnist, fashion-mnist, digits); {task.name} has "
                             f"{task.num_features} features per example")
        channels = [int(c) for c in channels]
        if len(channels) != 2:
            raise ValueError(f"a LeNet has two conv layers: give two channel counts, got {channels}")
        core = LeNet(image[0], objective.outputs, image[1], channels=channels, hidden=hidden,
                     kernel_size=5 if image[1] >= 16 else 3,
                     activation=activation if activation in ("relu", "tanh", "sigmoid") else "relu",
                     dropout=dropout, generator=seed)
        return core if task.preprocess is None else Sequential(task.preprocess, core)
    if model == "autoencoder":
        X = task.train.X.reshape(len(task.train.X), -1)
        if task.preprocess is not None or X.min() < 0 or X.max() > 1:
            raise ValueError(f"an autoencoder rebuilds images with pixels in [0, 1] (mnist, fashion-mnist, digits); "
                             f"{task.name} is not such a set")
        if len(hidden) > 1:
            raise ValueError(f"an autoencoder has one layer of code units: give one width, got {hidden}")
        return Autoencoder(X.shape[1], hidden[0] if hidden else 400, k=active, scale=10.0, noise=noise,
                           generator=seed)
    if model == "logistic":
        if objective.task == "regression":
            core = MLP([task.num_features, 1], generator=seed)
        else:
            core = LogisticRegression(task.num_features, max(task.num_classes, 2), generator=seed)
    elif model == "mlp":
        core = MLP([task.num_features, *hidden, objective.outputs], activation=activation, dropout=dropout,
                   generator=seed)
    else:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(ARCHITECTURES)}")
    if task.train.X.ndim > 2:  # images (N, C, H, W) into a dense network: one vector per image
        core = Sequential(Flatten(), core)
    if task.preprocess is not None:
        return Sequential(task.preprocess, core)
    return core
