"""One interface over the three cells, and truncated backpropagation through time (lesson 3).

``CELLS[name]`` tells the parameter names of a cell (rnn/lstm: ``Wx, Wh, b``; gru: ``Wx, Wh, bx,
bh``) so that code shared by all three (the model, the training loop, the diagnostics) can call
``sequence_forward`` / ``sequence_backward`` with a parameter dict.

Truncated BPTT with window ``k``: run the sequence in chunks of ``k`` steps. The *state* is carried
from one chunk to the next (the forward pass is exactly the full one), but the *gradient* is cut at
chunk borders: no gradient flows from chunk ``j+1`` back into chunk ``j``. Memory then grows with
``k`` instead of ``T``, at the price of ignoring dependencies longer than ``k`` steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_int, check_shape
from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_final_cell, lstm_forward
from .rnn import rnn_backward, rnn_forward

__all__ = [
    "CellSpec",
    "CELLS",
    "get_cell",
    "sequence_forward",
    "sequence_backward",
    "final_state",
    "truncated_bptt",
]


class CellSpec(NamedTuple):
    name: str
    gates: int  # blocks stacked in Wx/Wh: 1, 4 (i, f, g, o) or 3 (r, z, n)
    param_names: tuple
    forward: Callable
    backward: Callable
    has_cell_state: bool


CELLS = {
    "rnn": CellSpec("rnn", 1, ("Wx", "Wh", "b"), rnn_forward, rnn_backward, False),
    "lstm": CellSpec("lstm", 4, ("Wx", "Wh", "b"), lstm_forward, lstm_backward, True),
    "gru": CellSpec("gru", 3, ("Wx", "Wh", "bx", "bh"), gru_forward, gru_backward, False),
}


def get_cell(cell):
    if isinstance(cell, CellSpec):
        return cell
    if not isinstance(cell, str):
        raise TypeError(f"cell must be a name, one of {sorted(CELLS)}, got {type(cell).__name__} {cell!r}")
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    return CELLS[cell]


def _params(spec, params):
    missing = [k for k in spec.param_names if k not in params]
    if missing:
        raise ValueError(
            f"params for a {spec.name} cell need keys {list(spec.param_names)}, missing {missing}"
        )
    return [params[k] for k in spec.param_names]


def sequence_forward(cell, x, h0, params, c0=None):
    """``h, cache = sequence_forward("lstm", x, h0, params, c0)`` for any cell."""
    spec = get_cell(cell)
    if spec.has_cell_state:
        return spec.forward(x, h0, *_params(spec, params), c0=c0)
    if c0 is not None:
        raise ValueError(f"c0 was given but a {spec.name} cell has no cell state")
    return spec.forward(x, h0, *_params(spec, params))


def sequence_backward(cell, dh, cache, dc_T=None):
    """Returns ``(dx, dh0, dc0, grads)`` with ``grads`` a dict keyed like the params
    (``dc0`` is ``None`` for cells without a cell state)."""
    spec = get_cell(cell)
    if spec.has_cell_state:
        dx, dh0, dc0, *dps = spec.backward(dh, cache, dc_T=dc_T, return_dc0=True)
    else:
        dx, dh0, *dps = spec.backward(dh, cache)
        dc0 = None
    return dx, dh0, dc0, dict(zip(spec.param_names, dps, strict=True))


def final_state(cell, h, cache):
    """The state to carry into the next chunk: ``(h_T, c_T)``, ``c_T`` None without a cell state."""
    spec = get_cell(cell)
    hT = h[:, -1]
    return hT, (lstm_final_cell(cache) if spec.has_cell_state else None)


def truncated_bptt(cell, x, h0, params, dh, k, c0=None):
    """Gradients of ``sum(h * dh)`` with the gradient cut every ``k`` steps.

    Args ``x (N, T, D)``, ``h0 (N, H)``, ``params`` dict, ``dh (N, T, H)``, window ``k >= 1``.
    Returns ``(h (N, T, H), dx (N, T, D), grads)``; with ``k >= T`` this equals full BPTT.
    """
    spec = get_cell(cell)
    k = check_int("k (the truncation window)", k, 1)
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, _ = x.shape
    dh = as_float_array("dh", dh)
    hs, dxs = [], []
    grads = None
    state_h, state_c = h0, c0
    for start in range(0, T, k):
        stop = min(start + k, T)
        h, cache = sequence_forward(spec, x[:, start:stop], state_h, params, state_c)
        dx, _, _, g = sequence_backward(spec, dh[:, start:stop], cache)
        grads = g if grads is None else {n: grads[n] + g[n] for n in grads}
        state_h, state_c = final_state(spec, h, cache)
        # the carried state is a value, not a node of the next chunk's graph: copy to make that explicit
        state_h = state_h.copy()
        state_c = None if state_c is None else state_c.copy()
        hs.append(h)
        dxs.append(dx)
    return np.concatenate(hs, axis=1), np.concatenate(dxs, axis=1), grads
