"""The lab: the lecture's live demonstrations in the browser, computed by thetas (``thetas lab``).

Each page module (``digits``, ``playground``, ``fourpixel``, ``optimisers``, ``knowledge``, ``apple``) declares
its page and its JSON routes once (``pages.Page``); ``server.PAGES`` lists them, and ``GET /api`` on a running lab
lists every route. Needs the ``lab`` extra: ``pip install "thetas[lab]"`` (Starlette and uvicorn).

    from thetas.lab import create_app
    app = create_app(model_path="lenet.safetensors")     # an ASGI app, e.g. for uvicorn.run(app)
"""


def create_app(*args, **kwargs):
    """See ``thetas.lab.server.create_app``."""
    from .server import create_app as create
    return create(*args, **kwargs)


__all__ = ["create_app"]
