"""``thetas.models.dkt`` is ``thetas.knowledge.model`` (the DKT network, its loss and metrics), under the name it
had before knowledge tracing became one package. One module, two names: nothing is copied."""
import sys

from ..knowledge import model as _model

sys.modules[__name__] = _model
