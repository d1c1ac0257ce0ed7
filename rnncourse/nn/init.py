"""Parameter initialisers (lessons 4-6).

Why they matter: the recurrent matrix ``Wh`` is multiplied into the gradient once per step, so its
spectrum decides whether gradients vanish or explode. Orthogonal ``Wh`` has every singular value
equal to 1; the identity (Le et al. 2015, "IRNN", with ReLU) starts as a perfect copy; Xavier/Glorot
keeps activations' variance roughly constant for the input projection.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_int, check_number
from .cells import get_cell
from .rng import as_rng

__all__ = ["xavier", "orthogonal", "identity", "init_cell_params", "spectral_radius"]


def xavier(shape, rng=None, gain=1.0, dtype=np.float64):
    """Glorot-uniform: ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    ``rng``: a Generator, an int seed or None (see ``rnncourse.nn.rng.as_rng``)."""
    fan_in, fan_out = shape[0], shape[-1]
    a = gain * np.sqrt(6.0 / (fan_in + fan_out))
    return as_rng(rng).uniform(-a, a, size=shape).astype(dtype)


def orthogonal(n, rng=None, gain=1.0, dtype=np.float64):
    """A random ``(n, n)`` orthogonal matrix times ``gain`` (all singular values equal ``gain``).
    QR of a Gaussian matrix, with the signs fixed so the distribution is uniform."""
    q, r = np.linalg.qr(as_rng(rng).normal(size=(n, n)))
    q *= np.sign(np.diag(r))
    return (gain * q).astype(dtype)


def identity(n, scale=1.0, dtype=np.float64):
    """``scale * I``: the IRNN initialisation of the recurrent weights."""
    return (scale * np.eye(n)).astype(dtype)


def spectral_radius(W):
    """Largest absolute eigenvalue of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def init_cell_params(
    cell, D, H, rng=None, recurrent="orthogonal", scale=1.0, forget_bias=1.0, dtype=np.float64
):
    """Parameters for ``cell`` in ("rnn", "lstm", "gru") as a dict named like the cell's arguments.

    rnn/lstm: ``{"Wx", "Wh", "b"}``; gru: ``{"Wx", "Wh", "bx", "bh"}``. ``Wx`` is Xavier; each gate's
    block of ``Wh`` is initialised by ``recurrent`` in ("orthogonal", "identity", "xavier",
    "normal") and multiplied by ``scale``. The LSTM forget-gate bias starts at ``forget_bias``
    (1.0 by default, so the cell starts out remembering). ``rng``: a Generator, an int seed or
    None (see ``rnncourse.nn.rng.as_rng``).
    """
    spec = get_cell(cell)
    D, H = check_int("D", D, 1), check_int("H", H, 1)
    scale, forget_bias = check_number("scale", scale), check_number("forget_bias", forget_bias)
    if recurrent not in ("orthogonal", "identity", "xavier", "normal"):
        raise ValueError(
            f"recurrent must be 'orthogonal', 'identity', 'xavier' or 'normal', got {recurrent!r}"
        )
    rng = as_rng(rng)
    G = spec.gates
    Wx = xavier((D, G * H), rng, dtype=dtype)
    blocks = []
    for _ in range(G):
        if recurrent == "orthogonal":
            blk = orthogonal(H, rng)
        elif recurrent == "identity":
            blk = identity(H)
        elif recurrent == "xavier":
            blk = xavier((H, H), rng)
        else:
            blk = rng.normal(scale=1.0 / np.sqrt(H), size=(H, H))
        blocks.append(scale * blk)
    Wh = np.concatenate(blocks, axis=1).astype(dtype)
    if spec.name == "gru":
        return {"Wx": Wx, "Wh": Wh, "bx": np.zeros(G * H, dtype), "bh": np.zeros(G * H, dtype)}
    b = np.zeros(G * H, dtype)
    if spec.name == "lstm":
        b[H : 2 * H] = forget_bias
    return {"Wx": Wx, "Wh": Wh, "b": b}
