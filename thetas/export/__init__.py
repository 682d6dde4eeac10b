"""Graduate to PyTorch: every thetas model as the equivalent ``torch.nn.Module``, with the same weights and the same
outputs, and back (``to_torch``, ``from_torch``). torch is imported only when called (``pip install torch``).

    import thetas as th
    net = th.export.to_torch(model)            # a torch.nn.Module: train it on a GPU, save it with torch.save
    model = th.export.from_torch(net)          # back to thetas, the same state_dict
"""
from .onnx import to_onnx
from .torch import ExportError, from_torch, to_torch

__all__ = ["to_torch", "from_torch", "to_onnx", "ExportError"]
