"""``thetas.data.knowledge``: the knowledge-tracing data under its former name. It lives in ``thetas.knowledge``:
``students.py`` (Students, batches), ``simulate.py`` (the simulated students) and ``formats.py`` (the files).
These are re-exports, not copies; ``th.data`` offers the same names."""
from ..knowledge.formats import (FORMATS, _read_text, guess_format, load_assistments_csv,  # noqa: F401
                                 load_dkt_csv, load_students)
from ..knowledge.simulate import optimal_predictions, synthetic_5, synthetic_students  # noqa: F401
from ..knowledge.students import Batch, DKTInputs, Students, dkt_batches, dkt_inputs, pad_batch  # noqa: F401
