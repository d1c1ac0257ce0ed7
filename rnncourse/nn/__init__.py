"""The course's numerical core: pure NumPy, batch-first, no plotting, no widgets.

Every name a lesson or an exercise uses is importable from here, e.g.
``from rnncourse.nn import rnn_forward, lstm_step_backward, check_gradients``.
"""
from .cells import CELLS, CellSpec, final_state, get_cell, sequence_backward, sequence_forward, truncated_bptt
from .convert import from_torch, grads_from_torch, to_torch
from .functional import dsigmoid, dtanh, log_softmax, sigmoid, softmax, tanh
from .gradcheck import check_gradients, numeric_gradient, rel_error
from .gru import GRUCache, GRUStepCache, gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .init import identity, init_cell_params, orthogonal, spectral_radius, xavier
from .layers import (embedding_backward, embedding_forward, mse_loss, temporal_affine_backward,
                     temporal_affine_forward, temporal_softmax_loss)
from .lstm import (LSTMCache, LSTMStepCache, lstm_backward, lstm_final_cell, lstm_forward,
                   lstm_step_backward, lstm_step_forward)
from .model import History, SequenceModel, TrainingDiverged, evaluate, forward_loss, predict, train
from .optim import SGD, Adagrad, Adam, Momentum, clip_by_global_norm, clip_by_value, global_norm, make_optimizer
from .rnn import RNNCache, RNNStepCache, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = [n for n in dir() if not n.startswith("_")]
