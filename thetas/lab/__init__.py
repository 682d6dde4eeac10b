"""The lab: the lecture's live demonstrations in the browser, computed by thetas (``thetas lab``).

Pages: Digits (draw a digit, watch every layer of LeNet), Playground (2-D points, a network learning its
decision boundary), the four-pixel camera (weights set by hand, then learned), optimisers and losses (a loss
surface walked by GD, SGD, momentum and Adam; the M&Ms estimate). Needs the ``lab`` extra:
``pip install "thetas[lab]"`` (Starlette and uvicorn).

    from thetas.lab import create_app
    app = create_app(model_path="lenet.safetensors")     # an ASGI app, e.g. for uvicorn.run(app)
"""


def create_app(*args, **kwargs):
    """See ``thetas.lab.server.create_app``."""
    from .server import create_app as create
    return create(*args, **kwargs)


__all__ = ["create_app"]
