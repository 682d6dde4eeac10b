"""Checks for the exercises of ``notebooks/12_export.ipynb``: beyond one machine, thetas models in PyTorch and ONNX.

thetas borrows PyTorch's names, so most layers translate one to one (``th.nn.Linear`` → ``torch.nn.Linear``); a model
class becomes the torch module that computes the same thing (an ``MLP`` is a ``torch.nn.Sequential``). A float32
state_dict takes 4 bytes per theta: Σ_l (n_in·n_out + n_out) parameters for dense layers.
"""

from . import Verdict, as_number, right, wrong

__all__ = ["LAYERS", "MLP_SIZES", "check_torch_names", "check_state_dict_bytes"]

# exercise 1: the thetas layers and models to translate, and the torch.nn class of each translation
LAYERS = ("th.nn.Linear", "th.nn.Conv2d", "th.nn.MaxPool2d", "th.nn.LSTM", "th.models.MLP",
          "th.models.LogisticRegression")
_TORCH = {"th.nn.Linear": "Linear", "th.nn.Conv2d": "Conv2d", "th.nn.MaxPool2d": "MaxPool2d", "th.nn.LSTM": "LSTM",
          "th.models.MLP": "Sequential", "th.models.LogisticRegression": "LogisticRegression"}
_HINTS = {
    "th.models.MLP": "an MLP is layers applied one after the other: which torch container does that?",
    "th.models.LogisticRegression": "one neuron z = θᵀx + b computes more than a bare layer here (it drops the last "
                                    "axis of its output): what does section 2 say such a model becomes? (With torch: "
                                    "print th.export.to_torch(th.models.LogisticRegression(4)).)",
}
MLP_SIZES = (784, 256, 256, 10)   # exercise 2: `thetas train mnist`'s MLP, x → h₁ → h₂ → ŷ


def _name(value):
    """'Linear' from 'Linear', 'nn.Linear', 'torch.nn.Linear', torch.nn.Linear or an instance of it."""
    if isinstance(value, str):
        return value.strip().split(".")[-1].replace("()", "")
    if isinstance(value, type):
        return value.__name__
    return type(value).__name__


def check_torch_names(answer):
    """Exercise 1: a dict mapping each name of ``LAYERS`` to the torch module (a class, an instance, or its name:
    "Linear", "nn.Linear", "torch.nn.Linear") that ``th.export.to_torch`` makes of it (case-insensitive)."""
    if answer is None or answer is Ellipsis:
        return wrong("your answer is still None: give a dict, e.g. {\"th.nn.Linear\": \"torch.nn.Linear\", ...}.")
    if not isinstance(answer, dict):
        return wrong(f"give a dict from each thetas name to a torch module name, got a {type(answer).__name__}.")
    keys = {str(k).strip(): v for k, v in answer.items()}
    missing = [k for k in LAYERS if k not in keys]
    if missing:
        return wrong(f"these are missing from your dict: {', '.join(missing)} (use the names exactly as in "
                     "exercises.LAYERS).")
    bad = [k for k in LAYERS if _name(keys[k]).lower() != _TORCH[k].lower()]
    if not bad:
        return right("thetas borrows PyTorch's names: a layer becomes the torch layer of the same name with the same "
                     "thetas, and a model the torch module that computes what it computes.")
    first = bad[0]
    hint = _HINTS.get(first, "thetas layers carry PyTorch's own names.")
    return wrong(f"{len(bad)} of {len(LAYERS)} not yet; {first}: {hint}")


def check_state_dict_bytes(answer):
    """Exercise 2: the bytes of the float32 state_dict of ``th.models.MLP(MLP_SIZES)``: 4 · Σ (n_in·n_out + n_out),
    exactly (a whole number)."""
    value = as_number(answer, "the size in bytes")
    if isinstance(value, Verdict):
        return value
    pairs = list(zip(MLP_SIZES[:-1], MLP_SIZES[1:]))
    n = sum(a * b + b for a, b in pairs)
    if value == 4 * n:
        return right(f"{n:,} thetas × 4 bytes = {4 * n:,} bytes (about {4 * n / 2 ** 20:.2f} MiB): the size of the "
                     "weights in a safetensors file, an ONNX file or PyTorch's state_dict, each plus a small header.")
    if value == n:
        return wrong("that is the number of thetas. How many bytes does one float32 number take?")
    if value == 8 * n:
        return wrong("that is float64 (8 bytes a number). thetas and PyTorch store float32 by default.")
    if value == 32 * n:
        return wrong("that counts bits: 32 bits make 4 bytes.")
    if value == 4 * sum(a * b for a, b in pairs):
        return wrong("you left out the biases: each layer has one b per output neuron, also in the state_dict.")
    if value != round(value):
        return wrong("give the exact number of bytes (not kilobytes or megabytes).")
    return wrong(f"Count the thetas layer by layer ({len(pairs)} Linear layers: n_in·n_out weights and "
                 "n_out biases each), then the bytes of each float32 number.")
