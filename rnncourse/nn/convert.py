"""Conversion between this course's parameter layout and PyTorch's ``nn.RNN/LSTM/GRU``.

PyTorch stores ``weight_ih (G*H, D)``, ``weight_hh (G*H, H)``, ``bias_ih (G*H,)``, ``bias_hh (G*H,)``
and computes ``x W_ih^T + b_ih + h W_hh^T + b_hh``. This course multiplies from the right with
``Wx (D, G*H)``, ``Wh (H, G*H)``, so ``Wx = weight_ih.T`` and ``Wh = weight_hh.T``. The gate order
is the same (LSTM i, f, g, o; GRU r, z, n). For the RNN and LSTM the two biases are only ever added,
so ``b = bias_ih + bias_hh``; converting back puts all of ``b`` into ``bias_ih`` and zeros into
``bias_hh``. The GRU keeps both (``bx = bias_ih``, ``bh = bias_hh``) because the reset gate
multiplies ``bh_n``.

Plain arrays in and out: torch tensors can be passed after ``.detach().numpy()``.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_shape
from .cells import get_cell

__all__ = ["from_torch", "to_torch", "grads_from_torch"]


def _gates(cell):
    return get_cell(cell).gates


def from_torch(cell, weight_ih, weight_hh, bias_ih, bias_hh):
    """PyTorch layout -> ``{"Wx", "Wh", "b"}`` (rnn, lstm) or ``{"Wx", "Wh", "bx", "bh"}`` (gru)."""
    G = _gates(cell)
    weight_hh = as_float_array("weight_hh", weight_hh)
    check_shape("weight_hh", weight_hh, (None, None), ("G*H", "H"))
    H = weight_hh.shape[1]
    check_shape("weight_hh", weight_hh, (G * H, H), ("G*H", "H"))
    weight_ih = as_float_array("weight_ih", weight_ih)
    check_shape("weight_ih", weight_ih, (G * H, None), ("G*H", "D"))
    bias_ih = as_float_array("bias_ih", bias_ih)
    check_shape("bias_ih", bias_ih, (G * H,), ("G*H",))
    bias_hh = as_float_array("bias_hh", bias_hh)
    check_shape("bias_hh", bias_hh, (G * H,), ("G*H",))
    out = {"Wx": weight_ih.T.copy(), "Wh": weight_hh.T.copy()}
    if cell == "gru":
        out.update(bx=bias_ih.copy(), bh=bias_hh.copy())
    else:
        out["b"] = bias_ih + bias_hh
    return out


def to_torch(cell, params):
    """Our params dict -> ``{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}`` (NumPy arrays)."""
    _gates(cell)
    Wx, Wh = np.asarray(params["Wx"]), np.asarray(params["Wh"])
    out = {"weight_ih": Wx.T.copy(), "weight_hh": Wh.T.copy()}
    if cell == "gru":
        out.update(bias_ih=np.array(params["bx"]), bias_hh=np.array(params["bh"]))
    else:
        b = np.asarray(params["b"])
        out.update(bias_ih=b.copy(), bias_hh=np.zeros_like(b))
    return out


def grads_from_torch(cell, dweight_ih, dweight_hh, dbias_ih, dbias_hh):
    """PyTorch gradients -> ours. For rnn/lstm ``db`` equals both ``dbias_ih`` and ``dbias_hh``
    (``b`` is their sum), so ``dbias_ih`` is returned and the two must agree."""
    out = {"Wx": np.asarray(dweight_ih).T.copy(), "Wh": np.asarray(dweight_hh).T.copy()}
    if cell == "gru":
        out.update(bx=np.array(dbias_ih), bh=np.array(dbias_hh))
    else:
        out["b"] = np.array(dbias_ih)
    return out
