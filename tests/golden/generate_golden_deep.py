"""Generate the PyTorch golden files for deep (stacked) and bidirectional networks.

Like ``generate_golden.py`` this imports torch and is NOT run by the test suite; the files it writes
are committed and ``tests/test_golden_deep.py`` checks ``rnncourse.nn.deep`` against them without
torch. Run it from the repository root with a throw-away venv::

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchvenv/bin/python tests/golden/generate_golden_deep.py

For each cell (``torch.nn.RNN`` tanh, ``LSTM``, ``GRU``), ``num_layers`` in (2, 3) and
``bidirectional`` in (False, True) (``batch_first=True``, ``bias=True``, float64) it draws the
parameters (uniform(-0.6, 0.6)), ``x``, ``h0`` [, ``c0``] and the upstream gradients ``dout``,
``dh_n`` [, ``dc_n``] from a seeded NumPy generator, differentiates

    loss = sum(out * dout) + sum(h_n * dh_n) [+ sum(c_n * dc_n)]

and saves ``deep/{cell}_L{L}_{uni|bi}_N{N}_T{T}_D{D}_H{H}.npz`` holding, in PyTorch layout and
names: ``x, h0, c0, dout, dh_n, dc_n, out, h_n, c_n, dx, dh0, dc0``, every parameter under its
``state_dict`` name (``weight_ih_l1_reverse``, ...) and its gradient under ``grad.<name>``.
``h0``/``h_n``/... keep torch's leading ``num_layers * directions`` axis.
"""

from __future__ import annotations

import os
import sys

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("generate_golden_deep.py needs torch: pip install torch==2.13.0 numpy in a separate venv")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deep")
MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
# (num_layers, N, T, D, H): small, with D != H and D != 2H so that a layer-order or shape mix-up
# cannot pass by accident
CASES = [(2, 2, 4, 3, 2), (3, 3, 5, 2, 3)]
SEED = 20261207


def make_case(cell, L, bidirectional, N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    dirs = 2 if bidirectional else 1
    mod = MODULES[cell](
        D, H, num_layers=L, bidirectional=bidirectional, batch_first=True, dtype=torch.float64
    )
    with torch.no_grad():
        for _name, p in mod.named_parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.6, 0.6, size=tuple(p.shape))))
    x = rng.standard_normal((N, T, D))
    h0 = 0.5 * rng.standard_normal((L * dirs, N, H))
    c0 = 0.5 * rng.standard_normal((L * dirs, N, H)) if cell == "lstm" else None
    dout = rng.standard_normal((N, T, dirs * H))
    dh_n = rng.standard_normal((L * dirs, N, H))
    dc_n = rng.standard_normal((L * dirs, N, H)) if cell == "lstm" else None

    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0, requires_grad=True)
    if cell == "lstm":
        tc0 = torch.tensor(c0, requires_grad=True)
        out, (h_n, c_n) = mod(tx, (th0, tc0))
        loss = (
            (out * torch.from_numpy(dout)).sum()
            + (h_n * torch.from_numpy(dh_n)).sum()
            + (c_n * torch.from_numpy(dc_n)).sum()
        )
    else:
        out, h_n = mod(tx, th0)
        loss = (out * torch.from_numpy(dout)).sum() + (h_n * torch.from_numpy(dh_n)).sum()
    loss.backward()

    data = {
        "x": x,
        "h0": h0,
        "dout": dout,
        "dh_n": dh_n,
        "out": out.detach().numpy(),
        "h_n": h_n.detach().numpy(),
        "dx": tx.grad.numpy(),
        "dh0": th0.grad.numpy(),
    }
    if cell == "lstm":
        data.update(c0=c0, dc_n=dc_n, c_n=c_n.detach().numpy(), dc0=tc0.grad.numpy())
    for name, p in mod.named_parameters():
        data[name] = p.detach().numpy().copy()
        data["grad." + name] = p.grad.numpy().copy()
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    k = 0
    for cell in ("rnn", "lstm", "gru"):
        for L, N, T, D, H in CASES:
            for bidirectional in (False, True):
                data = make_case(cell, L, bidirectional, N, T, D, H, SEED + k)
                k += 1
                assert all(v.dtype == np.float64 for v in data.values())
                path = os.path.join(
                    OUT, f"{cell}_L{L}_{'bi' if bidirectional else 'uni'}_N{N}_T{T}_D{D}_H{H}.npz"
                )
                np.savez(path, **data)
                print(f"{os.path.relpath(path)}: {os.path.getsize(path) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
