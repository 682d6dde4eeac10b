"""Pictures of the lecture (matplotlib, imported only when a picture is drawn: ``pip install "thetas[plot]"``)."""
from ..knowledge.plots import plot_concept_clusters, plot_influence_graph, plot_knowledge_trace, save_dkt_plots
from .plots import (decision_grid, plot_confusion_matrix, plot_decision_boundary, plot_history, plot_images,
                    plot_neurons, plot_weights, savefig)
from .reports import save_autoencoder_plots, save_training_plots
from .rl import plot_apple_world, plot_q_bars, plot_q_values, plot_returns, plot_td_loss, plot_training
from .vision import plot_feature_maps, plot_filters, plot_misclassified, top_k_guesses

__all__ = ["decision_grid", "plot_confusion_matrix", "plot_decision_boundary", "plot_history", "plot_images",
           "plot_neurons", "plot_weights", "savefig", "plot_feature_maps", "plot_filters", "plot_misclassified",
           "top_k_guesses", "plot_knowledge_trace", "plot_influence_graph", "plot_concept_clusters",
           "save_dkt_plots", "save_training_plots", "save_autoencoder_plots", "plot_returns", "plot_td_loss",
           "plot_q_values", "plot_training", "plot_q_bars", "plot_apple_world"]
