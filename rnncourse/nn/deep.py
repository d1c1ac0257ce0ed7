"""Deep (stacked) and bidirectional recurrent networks over any of the three cells (lesson 8).

A *stacked* network feeds the hidden sequence of layer ``l`` to layer ``l + 1`` as its input; only
the top layer's hidden sequence is the output. A *bidirectional* layer runs two independent cells
over the same input: one from ``t = 1`` to ``T`` (forward) and one from ``t = T`` down to ``1``
(reverse); the layer's output at step ``t`` is the two hidden states side by side,
``[h_t^fwd, h_t^rev]``, so every output sees the whole sequence, past and future.

The layout is PyTorch's (``torch.nn.RNN/LSTM/GRU(num_layers=L, bidirectional=...,
batch_first=True)``):

* ``layers`` is a list of ``L * dirs`` parameter dicts (``dirs`` is 2 when bidirectional, else 1)
  in the order ``l0, l0_reverse, l1, l1_reverse, ...``; each dict has the cell's usual names
  (``Wx, Wh, b`` or ``Wx, Wh, bx, bh``). Layer 0's ``Wx`` is ``(D, G*H)``; a higher layer's is
  ``(dirs*H, G*H)`` because it reads the layer below's output.
* ``h0`` (and ``c0`` for the LSTM) is ``(L * dirs, N, H)``, index ``l * dirs + d``.
* the output ``h`` is the top layer's ``(N, T, dirs * H)``: forward half first.
* the final states are ``cache.h_n`` (and ``cache.c_n``), ``(L * dirs, N, H)`` like PyTorch's
  ``h_n``: for a forward direction the state after step ``T`` (``h[:, -1]``), for a reverse
  direction the state after it has read the whole sequence backwards, i.e. its output at
  ``t = 1``.

Backward: ``deep_backward(dh, cache, dh_n=None, dc_n=None)``. Walking down from the top layer,
the gradient reaching a layer's output is split into its forward and reverse halves; each half
runs through that direction's ``sequence_backward`` (the reverse one on the flipped sequence), and
the two input gradients are *added*, because both directions read the same input.

Nothing new is computed here: every direction of every layer is one call of
``rnncourse.nn.sequence_forward`` / ``sequence_backward``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_cache, check_shape, result_dtype
from .cells import CellSpec, final_state, get_cell, sequence_backward, sequence_forward
from .convert import from_torch, grads_from_torch, to_torch

__all__ = [
    "DeepCache",
    "deep_forward",
    "deep_backward",
    "layers_from_torch",
    "layers_to_torch",
    "deep_grads_from_torch",
    "layer_names",
]


class DeepCache(NamedTuple):
    """What ``deep_backward`` needs, plus the final states."""

    cell: CellSpec
    num_layers: int
    directions: int  # 1 or 2
    hidden: int  # H
    caches: list  # one sequence cache per layer and direction, PyTorch order
    h_n: np.ndarray  # (L * dirs, N, H) final hidden states
    c_n: np.ndarray | None  # (L * dirs, N, H) final cell states (LSTM), else None


def layer_names(num_layers, bidirectional=False):
    """PyTorch's suffixes in order: ``["l0", "l0_reverse", "l1", ...]``."""
    return [
        f"l{k}{suffix}"
        for k in range(num_layers)
        for suffix in (("", "_reverse") if bidirectional else ("",))
    ]


def _check_bool(name, v):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(v).__name__} {v!r}")
    return bool(v)


def _check_layers(spec, layers, D, dirs):
    """Validate the list of parameter dicts; returns ``(layers as float arrays, L, H)``."""
    if not isinstance(layers, (list, tuple)):
        raise TypeError(
            f"layers must be a list of parameter dicts (one per layer and direction), "
            f"got {type(layers).__name__}"
        )
    if len(layers) == 0 or len(layers) % dirs:
        raise ValueError(
            f"layers must hold num_layers * {dirs} dicts "
            f"({'bidirectional' if dirs == 2 else 'one direction'}), got {len(layers)}"
        )
    L = len(layers) // dirs
    names = layer_names(L, dirs == 2)
    G = spec.gates
    out, H = [], None
    for j, (p, name) in enumerate(zip(layers, names)):
        where = f"layers[{j}] ({name})"
        if not isinstance(p, dict):
            raise TypeError(f"{where} must be a dict of arrays, got {type(p).__name__}")
        missing = [k for k in spec.param_names if k not in p]
        if missing:
            raise ValueError(
                f"{where} needs keys {list(spec.param_names)} for a {spec.name} cell, missing {missing}"
            )
        q = {k: as_float_array(f"{where}['{k}']", p[k]) for k in spec.param_names}
        Wh = q["Wh"]
        if H is None:
            check_shape(f"{where}['Wh']", Wh, (None, None), ("H", f"{G}H" if G > 1 else "H"))
            H = Wh.shape[0]
        check_shape(f"{where}['Wh']", Wh, (H, G * H), ("H", f"{G}H" if G > 1 else "H"))
        in_dim, in_name = (D, "D") if j < dirs else (dirs * H, f"{dirs}H" if dirs > 1 else "H")
        check_shape(f"{where}['Wx']", q["Wx"], (in_dim, G * H), (in_name, f"{G}H" if G > 1 else "H"))
        for k in spec.param_names[2:]:
            check_shape(f"{where}['{k}']", q[k], (G * H,), (f"{G}H" if G > 1 else "H",))
        out.append(q)
    return out, L, H


def _check_state(name, s, L, dirs, N, H, dtype):
    if s is None:
        return np.zeros((L * dirs, N, H), dtype)
    s = as_float_array(name, s)
    check_shape(name, s, (L * dirs, N, H), ("num_layers*directions", "N", "H"))
    return s


def deep_forward(cell, x, h0, layers, c0=None, bidirectional=False):
    """Stacked (and optionally bidirectional) network, PyTorch's layout.

    Args: ``cell`` in ("rnn", "lstm", "gru"); ``x (N, T, D)``; ``h0 (L*dirs, N, H)`` or ``None``
    for zeros; ``layers`` a list of ``L*dirs`` parameter dicts (order ``l0, l0_reverse, l1, ...``);
    ``c0 (L*dirs, N, H)`` (LSTM only, ``None`` for zeros); ``bidirectional``.
    Returns ``(h (N, T, dirs*H), cache)``; the final states are ``cache.h_n`` and ``cache.c_n``.
    """
    spec = get_cell(cell)
    dirs = 2 if _check_bool("bidirectional", bidirectional) else 1
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, D = x.shape
    layers, L, H = _check_layers(spec, layers, D, dirs)
    if c0 is not None and not spec.has_cell_state:
        raise ValueError(f"c0 was given but a {spec.name} cell has no cell state")
    dtype = result_dtype(x, *[a for p in layers for a in p.values()])
    h0 = _check_state("h0", h0, L, dirs, N, H, dtype)
    if spec.has_cell_state:
        c0 = _check_state("c0", c0, L, dirs, N, H, dtype)
    if T == 0:
        raise ValueError("x must have at least one time step, got T = 0")

    caches, h_n, c_n = [], [], []
    inp = x
    for layer in range(L):
        outs = []
        for d in range(dirs):
            j = layer * dirs + d
            seq = inp if d == 0 else inp[:, ::-1]
            h, cache = sequence_forward(spec, seq, h0[j], layers[j], c0[j] if spec.has_cell_state else None)
            hT, cT = final_state(spec, h, cache)
            caches.append(cache)
            h_n.append(hT)
            c_n.append(cT)
            outs.append(h if d == 0 else h[:, ::-1])
        inp = outs[0] if dirs == 1 else np.concatenate(outs, axis=2)
    h_n = np.stack(h_n)
    c_n = np.stack(c_n) if spec.has_cell_state else None
    return inp, DeepCache(spec, L, dirs, H, caches, h_n, c_n)


def deep_backward(dh, cache, dh_n=None, dc_n=None):
    """Backpropagation through a stacked / bidirectional network.

    ``dh (N, T, dirs*H)`` is the upstream gradient of the top layer's output; ``dh_n`` and ``dc_n``
    ``(L*dirs, N, H)`` optional upstream gradients of the final states ``cache.h_n``, ``cache.c_n``.
    Returns ``(dx (N, T, D), dh0 (L*dirs, N, H), dlayers)``, and for the LSTM
    ``(dx, dh0, dc0, dlayers)``; ``dlayers`` is a list of gradient dicts in the order of ``layers``.
    """
    check_cache("cache", cache, DeepCache)
    spec, L, dirs, H = cache.cell, cache.num_layers, cache.directions, cache.hidden
    N = cache.h_n.shape[1]
    x_top = cache.caches[-1].h
    T = x_top.shape[1]
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (N, T, dirs * H), ("N", "T", "directions*H"))
    shape = (L * dirs, N, H)
    if dh_n is not None:
        dh_n = as_float_array("dh_n", dh_n)
        check_shape("dh_n", dh_n, shape, ("num_layers*directions", "N", "H"))
    if dc_n is not None:
        if not spec.has_cell_state:
            raise ValueError(f"dc_n was given but a {spec.name} cell has no cell state")
        dc_n = as_float_array("dc_n", dc_n)
        check_shape("dc_n", dc_n, shape, ("num_layers*directions", "N", "H"))

    dtype = result_dtype(dh, x_top)
    dh0 = np.zeros(shape, dtype)
    dc0 = np.zeros(shape, dtype) if spec.has_cell_state else None
    dlayers = [None] * (L * dirs)
    dout = dh
    for layer in range(L - 1, -1, -1):
        dinp = None
        for d in range(dirs):
            j = layer * dirs + d
            g = dout[:, :, d * H : (d + 1) * H]
            g = np.array(g if d == 0 else g[:, ::-1], dtype=dtype)  # run order, a fresh copy
            if dh_n is not None:
                g[:, -1] += dh_n[j]  # h_n is the last state in run order
            dc_T = None if dc_n is None else dc_n[j]
            dx, dh0[j], dc, grads = sequence_backward(spec, g, cache.caches[j], dc_T=dc_T)
            if dc0 is not None:
                dc0[j] = dc
            dlayers[j] = grads
            dx = dx if d == 0 else dx[:, ::-1]
            dinp = dx if dinp is None else dinp + dx  # both directions read the input
        dout = dinp
    dx = np.ascontiguousarray(dout)
    if spec.has_cell_state:
        return dx, dh0, dc0, dlayers
    return dx, dh0, dlayers


def _torch_layers(state_dict):
    """Find ``weight_ih_l{k}[_reverse]`` keys: returns (num_layers, bidirectional)."""
    if not isinstance(state_dict, dict):
        raise TypeError(
            f"state_dict must be a dict of arrays (e.g. {{k: v.detach().numpy() for k, v "
            f"in module.state_dict().items()}}), got {type(state_dict).__name__}"
        )
    L = 0
    while f"weight_ih_l{L}" in state_dict:
        L += 1
    if L == 0:
        raise ValueError(f"state_dict has no 'weight_ih_l0'; keys are {sorted(state_dict)[:8]}")
    bidirectional = "weight_ih_l0_reverse" in state_dict
    return L, bidirectional


def layers_from_torch(cell, state_dict):
    """PyTorch ``state_dict`` (NumPy arrays) of ``nn.RNN/LSTM/GRU(num_layers=L, bidirectional=...)``
    -> the list of parameter dicts ``deep_forward`` takes, in the order ``l0, l0_reverse, l1, ...``.
    Whether the network is bidirectional is read from the keys (``*_reverse``)."""
    spec = get_cell(cell)
    L, bidirectional = _torch_layers(state_dict)
    layers = []
    for name in layer_names(L, bidirectional):
        keys = [f"{w}_{name}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        missing = [k for k in keys if k not in state_dict]
        if missing:
            raise ValueError(
                f"state_dict is missing {missing} (a torch module built with bias=False is not supported)"
            )
        layers.append(from_torch(spec.name, *[state_dict[k] for k in keys]))
    return layers


def layers_to_torch(cell, layers, bidirectional=False):
    """The inverse of ``layers_from_torch``: ``{"weight_ih_l0": ..., "bias_hh_l1_reverse": ...}``.

    For rnn/lstm all of ``b`` goes into ``bias_ih`` and ``bias_hh`` is zero (torch only ever adds
    the two). Load into torch with ``module.load_state_dict({k: torch.from_numpy(v) ...})``.
    """
    spec = get_cell(cell)
    dirs = 2 if _check_bool("bidirectional", bidirectional) else 1
    if not isinstance(layers, (list, tuple)):
        raise TypeError(f"layers must be a list of parameter dicts, got {type(layers).__name__}")
    if len(layers) == 0 or len(layers) % dirs:
        raise ValueError(f"layers must hold num_layers * {dirs} dicts, got {len(layers)}")
    out = {}
    for name, p in zip(layer_names(len(layers) // dirs, dirs == 2), layers):
        for k, v in to_torch(spec.name, p).items():
            out[f"{k}_{name}"] = v
    return out


def deep_grads_from_torch(cell, grads):
    """Gradients keyed like a torch ``state_dict`` (e.g. ``{k: p.grad.numpy() for k, p in
    module.named_parameters()}``) -> a list of gradient dicts in our names (see
    ``grads_from_torch``)."""
    spec = get_cell(cell)
    L, bidirectional = _torch_layers(grads)
    return [
        grads_from_torch(
            spec.name, *[grads[f"{w}_{name}"] for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        )
        for name in layer_names(L, bidirectional)
    ]
