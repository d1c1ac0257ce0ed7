"""Generate the PyTorch golden reference files for the rnncourse NumPy core.

This script is the only place in the repository that imports PyTorch. It is
NOT run by the test suite: the ``.npz`` files it writes are committed, and
``tests/test_golden.py`` compares the NumPy core against them without torch.

How to run (from the repository root, with a Python that has torch installed,
ideally a throw-away venv outside the repository)::

    python3 -m venv /path/to/venv
    /path/to/venv/bin/pip install torch==2.13.0 numpy
    /path/to/venv/bin/python tests/golden/generate_golden.py

What it does, for each cell (``torch.nn.RNN`` with tanh, ``torch.nn.LSTM``,
``torch.nn.GRU``; one layer, ``bias=True``, ``batch_first=True``, float64)
and each shape case ``(N, T, D, H)`` in ``CASES``:

* draws parameters, ``x`` (N,T,D), ``h0`` (N,H) [and ``c0`` (N,H) for LSTM],
  an upstream gradient ``dout`` (N,T,H), ``dh_n`` (N,H) [and ``dc_n``] from a
  seeded NumPy generator (uniform(-0.6, 0.6) for the parameters, standard
  normal for the rest);
* runs forward and backward on

      loss = sum(out * dout) + sum(h_n * dh_n)  [+ sum(c_n * dc_n) for LSTM]

* saves ``tests/golden/{cell}_N{N}_T{T}_D{D}_H{H}.npz`` (``np.savez``, all
  float64, no object arrays) holding inputs, outputs and gradients in PyTorch
  layout (``weight_ih`` is (G*H, D); ``h_n``/``c_n``/``dh0``/``dc0`` are (N, H),
  i.e. torch's leading layer dimension is squeezed).

One extra LSTM file, ``lstm_zero_c0_N2_T3_D4_H5.npz``, has ``c0`` all zeros.

The output is deterministic: re-running it rewrites identical values
(up to PyTorch's own floating-point behaviour).
"""

from __future__ import annotations

import os
import sys

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - only hit where torch is missing
    sys.exit(
        "generate_golden.py needs torch: pip install torch==2.13.0 numpy in a "
        "separate venv and run it with that venv's python"
    )

HERE = os.path.dirname(os.path.abspath(__file__))

# (N, T, D, H)
CASES = [
    (2, 3, 4, 5),
    (1, 1, 3, 2),  # N=1, T=1
    (3, 5, 2, 1),  # H=1
    (4, 7, 6, 8),
    (1, 12, 3, 4),  # longer sequence
    (2, 4, 1, 3),  # D=1
]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
PARAM_SCALE = 0.6
BASE_SEED = 20240611


def _make_module(cell: str, D: int, H: int) -> torch.nn.Module:
    kwargs = dict(num_layers=1, bias=True, batch_first=True, dtype=torch.float64)
    if cell == "rnn":
        return torch.nn.RNN(D, H, nonlinearity="tanh", **kwargs)
    if cell == "lstm":
        return torch.nn.LSTM(D, H, **kwargs)
    if cell == "gru":
        return torch.nn.GRU(D, H, **kwargs)
    raise ValueError(cell)


def make_case(
    cell: str, N: int, T: int, D: int, H: int, seed: int, zero_c0: bool = False
) -> dict[str, np.ndarray]:
    """Build one golden case and return its arrays (all float64)."""
    rng = np.random.default_rng(seed)
    G = GATES[cell]

    def unif(*shape):
        return rng.uniform(-PARAM_SCALE, PARAM_SCALE, size=shape)

    params = {
        "weight_ih": unif(G * H, D),
        "weight_hh": unif(G * H, H),
        "bias_ih": unif(G * H),  # drawn independently of bias_hh
        "bias_hh": unif(G * H),
    }
    data = {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
    }
    if cell == "lstm":
        data["c0"] = np.zeros((N, H)) if zero_c0 else rng.standard_normal((N, H)) * 0.5
    data["dout"] = rng.standard_normal((N, T, H))
    data["dh_n"] = rng.standard_normal((N, H))
    if cell == "lstm":
        data["dc_n"] = rng.standard_normal((N, H))

    mod = _make_module(cell, D, H)
    with torch.no_grad():
        for name, value in params.items():
            getattr(mod, name + "_l0").copy_(torch.from_numpy(value))

    x = torch.from_numpy(data["x"]).clone().requires_grad_(True)
    h0 = torch.from_numpy(data["h0"]).unsqueeze(0).clone().requires_grad_(True)
    dout = torch.from_numpy(data["dout"])
    dh_n = torch.from_numpy(data["dh_n"])

    if cell == "lstm":
        c0 = torch.from_numpy(data["c0"]).unsqueeze(0).clone().requires_grad_(True)
        out, (h_n, c_n) = mod(x, (h0, c0))
        dc_n = torch.from_numpy(data["dc_n"])
        loss = (out * dout).sum() + (h_n[0] * dh_n).sum() + (c_n[0] * dc_n).sum()
    else:
        out, h_n = mod(x, h0)
        loss = (out * dout).sum() + (h_n[0] * dh_n).sum()
    loss.backward()

    result = dict(params)
    result.update(data)
    result["out"] = out.detach().numpy()
    result["h_n"] = h_n.detach()[0].numpy()
    if cell == "lstm":
        result["c_n"] = c_n.detach()[0].numpy()
    result["dx"] = x.grad.numpy()
    result["dh0"] = h0.grad[0].numpy()
    if cell == "lstm":
        result["dc0"] = c0.grad[0].numpy()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        result["d" + name] = getattr(mod, name + "_l0").grad.numpy()

    out_arrays = {}
    for key, value in result.items():
        arr = np.ascontiguousarray(np.asarray(value, dtype=np.float64))
        assert np.all(np.isfinite(arr)), (cell, key)
        out_arrays[key] = arr
    return out_arrays


def _check_shapes(cell: str, arrays: dict, N: int, T: int, D: int, H: int) -> None:
    G = GATES[cell]
    expect = {
        "x": (N, T, D),
        "h0": (N, H),
        "weight_ih": (G * H, D),
        "weight_hh": (G * H, H),
        "bias_ih": (G * H,),
        "bias_hh": (G * H,),
        "dout": (N, T, H),
        "dh_n": (N, H),
        "out": (N, T, H),
        "h_n": (N, H),
        "dx": (N, T, D),
        "dh0": (N, H),
        "dweight_ih": (G * H, D),
        "dweight_hh": (G * H, H),
        "dbias_ih": (G * H,),
        "dbias_hh": (G * H,),
    }
    if cell == "lstm":
        expect.update({"c0": (N, H), "dc_n": (N, H), "c_n": (N, H), "dc0": (N, H)})
    assert set(arrays) == set(expect), (cell, sorted(set(arrays) ^ set(expect)))
    for key, shape in expect.items():
        assert arrays[key].shape == shape, (cell, key, arrays[key].shape, shape)
    # the last output step is the final hidden state
    assert np.array_equal(arrays["out"][:, -1], arrays["h_n"]), cell


def main() -> None:
    torch.set_num_threads(1)
    written = []
    jobs = []
    for ci, cell in enumerate(("rnn", "lstm", "gru")):
        for k, (N, T, D, H) in enumerate(CASES):
            jobs.append(
                (f"{cell}_N{N}_T{T}_D{D}_H{H}.npz", cell, (N, T, D, H), BASE_SEED + 100 * ci + k, False)
            )
    jobs.append(("lstm_zero_c0_N2_T3_D4_H5.npz", "lstm", (2, 3, 4, 5), BASE_SEED + 999, True))

    for fname, cell, (N, T, D, H), seed, zero_c0 in jobs:
        arrays = make_case(cell, N, T, D, H, seed, zero_c0=zero_c0)
        _check_shapes(cell, arrays, N, T, D, H)
        path = os.path.join(HERE, fname)
        np.savez(path, **arrays)
        written.append(path)

    total = sum(os.path.getsize(p) for p in written)
    for p in written:
        print(f"{os.path.getsize(p):8d}  {os.path.relpath(p, HERE)}")
    print(f"{len(written)} files, {total} bytes total (torch {torch.__version__})")


if __name__ == "__main__":
    main()
