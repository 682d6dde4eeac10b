"""Knowledge tracing (Piech et al., "Deep Knowledge Tracing", NeurIPS 2015): what does Riley know, and what
should Riley do next?

A student answers question q_1 (right or wrong, a_1), then q_2, ... A recurrent network (``DKT``) reads the
pairs (q_t, a_t); its hidden state is the student's changing knowledge, and after every answer it predicts
P(correct) on every question. The package, in the order a newcomer meets it:

    students.py   Students (one answer sequence per student: split by student, windows, drop_short), the
                  union of a training and a test file's questions (align_questions) and the
                  padded batches (pad_batch, dkt_batches, dkt_inputs: x_t = onehot(q_t + M·a_t))
    simulate.py   the paper's simulated students (synthetic_students, synthetic_5) and the best any model
                  can do on them (optimal_predictions, optimal_auc)
    formats.py    real students from files: load_students (load_dkt_csv, load_assistments_csv)
    model.py      DKT and its input (dkt_array), loss (dkt_loss) and metrics (dkt_auc, ...)
    train.py      train_dkt: the recipe thetas dkt and the lab's Knowledge page both train with
    tutor.py      the robo-tutor: knowledge_trace, suggest_next, influence_matrix, concepts
    plots.py      plot_knowledge_trace, plot_influence_graph, plot_concept_clusters, save_dkt_plots
                  (in th.viz too; imported by thetas.viz, as it draws with viz's helpers)

The names the lecture uses stay where it shows them: ``th.models.DKT``, ``th.data.Students``,
``th.data.synthetic_5``, ``th.tutor.knowledge_trace``, ``th.viz.plot_knowledge_trace``, ... are these objects.
"""
from . import tutor
from .formats import FORMATS, guess_format, load_assistments_csv, load_dkt_csv, load_students
from .model import DKT, dkt_accuracy, dkt_array, dkt_auc, dkt_batch, dkt_loss, dkt_scores, next_step
from .simulate import optimal_auc, optimal_predictions, synthetic_5, synthetic_students
from .students import Batch, DKTInputs, Students, align_questions, dkt_batches, dkt_inputs, pad_batch
from .train import (DEFAULTS, TEST_FRACTION, TrainedDKT, WindowLoader, auto_epochs, check_resume, dkt_metrics,
                    held_out, train_dkt)
from .tutor import (answer, cluster_questions, concept_graph, context_influence, influence_matrix, knowledge_trace,
                    suggest_next)

__all__ = ["Students", "align_questions", "WindowLoader", "DEFAULTS", "auto_epochs",
           "check_resume", "Batch", "DKTInputs", "pad_batch", "dkt_batches", "dkt_inputs", "synthetic_students",
           "synthetic_5", "optimal_predictions", "optimal_auc", "FORMATS", "guess_format", "load_students",
           "load_dkt_csv", "load_assistments_csv", "DKT", "dkt_batch", "dkt_array", "dkt_loss", "dkt_scores",
           "dkt_auc", "dkt_accuracy", "next_step", "train_dkt", "TrainedDKT", "dkt_metrics", "held_out",
           "TEST_FRACTION", "tutor", "knowledge_trace", "suggest_next", "answer", "influence_matrix",
           "context_influence", "concept_graph", "cluster_questions"]
