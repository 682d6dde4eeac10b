"""Containers: modules that hold other modules."""
from .module import Module


class Sequential(Module):
    """Layers applied one after the other: ``y = f_n(... f_2(f_1(x)))``, the lecture's stacked neurons.

    ``Sequential(Linear(64, 32), Sigmoid(), Linear(32, 10))``; index, slice, iterate and ``len`` like a list.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a Module")
        self.layers = list(layers)

    def _members(self):  # children are named "0", "1", ... as in PyTorch
        return ((str(i), m) for i, m in enumerate(self.layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def append(self, layer):
        self.layers.append(layer)
        self._init_args = (tuple(self.layers), {})
        return self

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


class ModuleList(Module):
    """A list of modules whose parameters belong to the parent (named "0", "1", ...); no forward of its own."""

    def __init__(self, modules=()):
        self.items = list(modules)

    def _members(self):
        return ((str(i), m) for i, m in enumerate(self.items))

    def append(self, module):
        self.items.append(module)
        self._init_args = ((list(self.items),), {})
        return self

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)
