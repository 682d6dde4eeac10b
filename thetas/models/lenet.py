"""LeNet: the convolutional network of LeCun et al. (1998) that read handwritten digits."""
from ..autograd import ops
from ..nn.activation import ReLU, Sigmoid, Tanh
from ..nn.containers import Sequential
from ..nn.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..tensor import as_generator

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
_POOLS = {"max": MaxPool2d, "avg": AvgPool2d}


class LeNet(Sequential):
    """conv k×k → f → pool 2 → conv k×k → f → pool 2 → flatten → fc → f → fc → f → fc (logits)

    With the defaults, LeNet-5 on 28×28 MNIST: conv 6@5×5 (padding 2: 28×28) → pool → 14×14 → conv 16@5×5 →
    10×10 → pool → 5×5 → 400 → 120 → 84 → 10; 61,706 thetas, most of them in the dense layers: the two conv
    layers share 156 + 2,416 weights across every position of the image. LeCun 1998 used tanh-like units and
    average pooling ("subsampling"); ReLU and max pooling train faster and are the defaults here.

    Args:
        in_channels: 1 for grayscale.
        num_classes: outputs (logits).
        image_size: H = W of the input.
        channels: output channels of the two conv layers.
        hidden: widths of the dense layers before the output.
        kernel_size: k.
        activation: 'relu', 'tanh' or 'sigmoid'.
        pool: 'max' or 'avg'.
        dropout: probability before each dense layer (0 = none).
        generator: seed for the initial thetas.

    Shape: (N, in_channels, image_size, image_size) -> (N, num_classes); flat rows (N, in_channels·image_size²),
    as the 8×8 digits come, are reshaped to images first.

    A small image (the 8×8 digits) works too: the first conv keeps the size (padding k // 2), and the second
    does as well when the image is smaller than 4·k.
    """

    def __init__(self, in_channels=1, num_classes=10, image_size=28, channels=(6, 16), hidden=(120, 84),
                 kernel_size=5, activation="relu", pool="max", dropout=0.0, generator=None):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet: unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}")
        if pool not in _POOLS:
            raise ValueError(f"LeNet: unknown pool {pool!r}; choose 'max' or 'avg'")
        c1, c2 = (int(c) for c in channels)
        k = int(kernel_size)
        rng = as_generator(generator)
        act, pooling = _ACTIVATIONS[activation], _POOLS[pool]
        pad2 = 0 if image_size >= 4 * k else k // 2
        size = image_size // 2                                    # after conv1 ('same') and the first pool
        size = (size + 2 * pad2 - k + 1) // 2                     # after conv2 and the second pool
        if size < 1:
            raise ValueError(f"LeNet: image_size {image_size} is too small for kernel_size {k}")
        layers = [Conv2d(in_channels, c1, k, padding=k // 2, generator=rng), act(), pooling(2),
                  Conv2d(c1, c2, k, padding=pad2, generator=rng), act(), pooling(2), Flatten()]
        width = c2 * size * size
        for h in hidden:
            if dropout:
                layers.append(Dropout(dropout, generator=rng))
            layers += [Linear(width, int(h), generator=rng), act()]
            width = int(h)
        if dropout:
            layers.append(Dropout(dropout, generator=rng))
        layers.append(Linear(width, num_classes, generator=rng))
        super().__init__(*layers)
        self.in_channels, self.image_size, self.num_classes = int(in_channels), int(image_size), int(num_classes)

    def forward(self, x):
        if len(x.shape) == 2:
            x = ops.reshape(ops._t(x), (x.shape[0], self.in_channels, self.image_size, self.image_size))
        return super().forward(x)
