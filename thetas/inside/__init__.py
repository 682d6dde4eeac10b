"""Looking inside a network: what a unit has learned (``optimal_stimulus``, ``top_stimuli``: Le et al. 2012, the
cat neuron) and why it decided (``saliency``, ``gradient_x_input``, ``integrated_gradients``, ``occlusion``), with
their plots (``plot_stimuli``, ``plot_top_stimuli``, ``plot_attribution``; matplotlib imported only when drawing);
every unit of a layer at once (``unit_stimuli``, with ``input_shape`` and ``num_units``); and whether a single
unit detects a class (``selectivity``: Le et al.'s read-out of a network trained without labels).

    import thetas as th
    x = th.inside.optimal_stimulus(model, "output", 7, (1, 28, 28), norm=10.0)
    ig = th.inside.integrated_gradients(model, images, target=7, steps=100)
"""
from .attribution import gradient_x_input, integrated_gradients, occlusion, saliency
from .plots import plot_attribution, plot_stimuli, plot_top_stimuli
from .selectivity import class_selectivity, layer_activations, selectivity
from .stimulus import optimal_stimuli, optimal_stimulus, top_stimuli
from .units import input_shape, num_units, unit_stimuli

__all__ = ["optimal_stimulus", "optimal_stimuli", "top_stimuli", "saliency", "gradient_x_input", "integrated_gradients",
           "occlusion",
           "plot_stimuli", "plot_top_stimuli", "plot_attribution", "input_shape", "num_units", "unit_stimuli",
           "selectivity", "class_selectivity", "layer_activations"]
