"""``th.tutor`` is ``thetas.knowledge.tutor`` (the robo-tutor: knowledge_trace, suggest_next, ...), under the name
the lecture uses. One module, two names: ``import thetas.tutor`` gives that very module, nothing is copied."""
import sys

from .knowledge import tutor as _tutor

sys.modules[__name__] = _tutor
