"""Pictures of what a unit has learned and why a network decided: ax in, ax out (a new Axes when ``ax`` is None),
matplotlib imported only when a picture is drawn, nothing calls ``plt.show()``.

Images are drawn as (h, w) tiles: one example of shape (h, w), (1, h, w), (3, h, w) or a flat vector of a square
size (64 → 8 × 8, 784 → 28 × 28); ``image_shape`` says otherwise.
"""
import numpy as np

__all__ = ["plot_stimuli", "plot_top_stimuli", "plot_attribution"]


def _pyplot():
    from ..viz.plots import _pyplot
    return _pyplot()


def _axes(ax):
    return ax if ax is not None else _pyplot().subplots()[1]


def _tile(x, image_shape=None):
    """One example as an (h, w) array (the mean over channels for a (C, h, w) image)."""
    x = np.asarray(x, np.float64)
    if image_shape is not None:
        x = x.reshape(image_shape)
    if x.ndim == 3:
        x = x.mean(0)
    if x.ndim == 1:
        side = int(round(np.sqrt(x.size)))
        if side * side != x.size:
            raise ValueError(f"a flat input of {x.size} numbers is not square: pass image_shape=(h, w)")
        x = x.reshape(side, side)
    if x.ndim != 2:
        raise ValueError(f"cannot draw an example of shape {x.shape} as an image: pass image_shape=(h, w)")
    return x


def _mosaic(tiles, ncols, pad=1):
    """Tiles (K, h, w) as one (rows·(h+pad), ncols·(w+pad)) array, NaN between tiles (drawn blank)."""
    k, h, w = tiles.shape
    rows = -(-k // ncols)
    out = np.full((rows * (h + pad) - pad, ncols * (w + pad) - pad), np.nan)
    for i, t in enumerate(tiles):
        r, c = divmod(i, ncols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = t
    return out, rows


def plot_stimuli(stimuli, ax=None, ncols=None, titles=None, image_shape=None, cmap="RdBu_r"):
    """A grid of stimuli (K examples), e.g. the optimal stimulus of each unit of a layer, on one diverging colour
    scale centred at 0 (red positive, blue negative), each tile scaled by its own max |x| so that every unit's
    pattern shows. ``titles``: one label per tile, written above it. Returns the Axes."""
    ax = _axes(ax)
    tiles = np.stack([_tile(s, image_shape) for s in stimuli])
    scale = np.abs(tiles).reshape(len(tiles), -1).max(1)
    tiles = tiles / np.where(scale > 0, scale, 1)[:, None, None]
    ncols = ncols or int(np.ceil(np.sqrt(len(tiles))))
    h, w = tiles.shape[1:]
    pad = max(1, round(0.4 * h)) if titles is not None else 1   # room for a title above every tile
    mosaic, _ = _mosaic(tiles, ncols, pad)
    top = pad if titles is not None else 0
    mosaic = np.pad(mosaic, ((top, 0), (0, 0)), constant_values=np.nan)
    ax.imshow(np.ma.masked_invalid(mosaic), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    for i, title in enumerate(titles if titles is not None else []):
        r, c = divmod(i, ncols)
        ax.text(c * (w + pad) + (w - 1) / 2, top + r * (h + pad) - 0.7, str(title), ha="center", va="bottom",
                fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_top_stimuli(images, indices, activations=None, ax=None, ncols=3, image_shape=None, cmap="gray"):
    """The images at ``indices`` (from ``top_stimuli``) in a grid, most exciting first, each with its activation
    written under it (Le et al.'s "top stimuli from the test set"). Returns the Axes."""
    ax = _axes(ax)
    images = np.asarray(images)
    tiles = np.stack([_tile(images[i], image_shape) for i in indices])
    h, w = tiles.shape[1:]
    pad = max(1, round(0.4 * h)) if activations is not None else 1   # room for the activation under every tile
    mosaic, _ = _mosaic(tiles, ncols, pad)
    if activations is not None:
        mosaic = np.pad(mosaic, ((0, pad), (0, 0)), constant_values=np.nan)
    ax.imshow(np.ma.masked_invalid(mosaic), cmap=cmap, interpolation="nearest")
    for i, a in enumerate(activations if activations is not None else []):
        r, c = divmod(i, ncols)
        ax.text(c * (w + pad) + (w - 1) / 2, r * (h + pad) + h - 0.5, f"{a:.3g}", ha="center", va="top", fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_attribution(image, attribution, ax=None, image_shape=None, alpha=0.6, cmap="RdBu_r", title=None):
    """An attribution map over its image: the image in grey, the attributions on top in a diverging colour scale
    centred at 0 (red: pushed the score up, blue: down). Returns the Axes."""
    ax = _axes(ax)
    img = _tile(image, image_shape)
    att = _tile(attribution, image_shape if image_shape is not None else None)
    if att.shape != img.shape:
        raise ValueError(f"attribution of shape {att.shape} does not match the image of shape {img.shape}")
    vmax = float(np.abs(att).max()) or 1.0
    ax.imshow(img, cmap="gray", interpolation="nearest")
    ax.imshow(att, cmap=cmap, vmin=-vmax, vmax=vmax, alpha=alpha, interpolation="nearest")
    if title:
        ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax
