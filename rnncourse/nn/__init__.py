"""The course's numerical core: pure NumPy, batch-first, no plotting, no widgets.

Every name a lesson or an exercise uses is importable from here, e.g.
``from rnncourse.nn import rnn_forward, lstm_step_backward, check_gradients``.
``__all__`` lists those names and nothing else (not the submodules), so ``from rnncourse.nn import *``
binds functions and classes only; ``tests/test_nn_properties.py`` keeps the list complete.
"""

from .cells import CELLS, CellSpec, final_state, get_cell, sequence_backward, sequence_forward, truncated_bptt
from .convert import from_torch, grads_from_torch, to_torch
from .deep import (
    DeepCache,
    deep_backward,
    deep_forward,
    deep_grads_from_torch,
    layer_names,
    layers_from_torch,
    layers_to_torch,
)
from .ensemble import (
    EnsembleCache,
    EnsembleHistory,
    ensemble_backward,
    ensemble_forward,
    ensemble_loss,
    ensemble_predict,
    ensemble_train,
    pad_batches,
    padded_sampler,
    stack_params,
    unstack_params,
)
from .functional import dsigmoid, dtanh, log_softmax, sigmoid, softmax, tanh
from .gradcheck import check_gradients, numeric_gradient, rel_error
from .gru import (
    GRUCache,
    GRUStepCache,
    gru_backward,
    gru_backward_loop,
    gru_forward,
    gru_forward_loop,
    gru_step_backward,
    gru_step_forward,
)
from .init import identity, init_cell_params, orthogonal, spectral_radius, xavier
from .layers import (
    embedding_backward,
    embedding_forward,
    mse_loss,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)
from .lstm import (
    LSTMCache,
    LSTMStepCache,
    lstm_backward,
    lstm_backward_loop,
    lstm_final_cell,
    lstm_forward,
    lstm_forward_loop,
    lstm_step_backward,
    lstm_step_forward,
)
from .model import History, SequenceModel, TrainingDiverged, evaluate, forward_loss, predict, train
from .optim import (
    SGD,
    Adagrad,
    Adam,
    Momentum,
    clip_by_global_norm,
    clip_by_value,
    global_norm,
    make_optimizer,
)
from .rng import as_rng
from .rnn import (
    RNNCache,
    RNNStepCache,
    rnn_backward,
    rnn_backward_loop,
    rnn_forward,
    rnn_forward_loop,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    # cells.py: one interface over the three cells
    "CELLS",
    "CellSpec",
    "get_cell",
    "sequence_forward",
    "sequence_backward",
    "final_state",
    "truncated_bptt",
    # rnn.py, lstm.py, gru.py: step, fast sequence kernel and the plain loop, forward and backward
    "RNNStepCache",
    "RNNCache",
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "rnn_forward_loop",
    "rnn_backward_loop",
    "LSTMStepCache",
    "LSTMCache",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "lstm_final_cell",
    "lstm_forward_loop",
    "lstm_backward_loop",
    "GRUStepCache",
    "GRUCache",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "gru_forward_loop",
    "gru_backward_loop",
    # layers.py
    "embedding_forward",
    "embedding_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "temporal_softmax_loss",
    "mse_loss",
    # functional.py
    "sigmoid",
    "dsigmoid",
    "tanh",
    "dtanh",
    "softmax",
    "log_softmax",
    # init.py, rng.py
    "xavier",
    "orthogonal",
    "identity",
    "init_cell_params",
    "spectral_radius",
    "as_rng",
    # optim.py
    "SGD",
    "Momentum",
    "Adagrad",
    "Adam",
    "make_optimizer",
    "global_norm",
    "clip_by_global_norm",
    "clip_by_value",
    # gradcheck.py
    "numeric_gradient",
    "rel_error",
    "check_gradients",
    # convert.py
    "from_torch",
    "to_torch",
    "grads_from_torch",
    # model.py
    "SequenceModel",
    "History",
    "TrainingDiverged",
    "forward_loss",
    "predict",
    "train",
    "evaluate",
    # deep.py: stacked and bidirectional networks in PyTorch's layer order
    "DeepCache",
    "deep_backward",
    "deep_forward",
    "deep_grads_from_torch",
    "layer_names",
    "layers_from_torch",
    "layers_to_torch",
    # ensemble.py: many small models trained at once
    "EnsembleCache",
    "EnsembleHistory",
    "ensemble_backward",
    "ensemble_forward",
    "ensemble_loss",
    "ensemble_predict",
    "ensemble_train",
    "pad_batches",
    "padded_sampler",
    "stack_params",
    "unstack_params",
]
