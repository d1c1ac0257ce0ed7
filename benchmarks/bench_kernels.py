"""Time the rnncourse NumPy kernels against PyTorch's CPU RNN/LSTM/GRU.

For each cell (RNN tanh, LSTM, GRU), configuration and dtype this times one
forward + backward pass of

* rnncourse: ``{cell}_forward`` then ``{cell}_backward`` (which always computes
  dx, dh0 and all parameter gradients), and
* PyTorch: ``torch.nn.{RNN,LSTM,GRU}(batch_first=True)`` forward, then
  ``(out * dout).sum().backward()`` with ``x`` and ``h0`` requiring grad, so
  torch computes the same set of gradients,

on the same parameters and data, in one process. Repeats of the two are
interleaved (numpy, torch, torch, numpy, ...) so slow drift of the machine
cancels, and the minimum over the repeats is reported.

BLAS/OpenMP threads are pinned with threadpoolctl (which covers NumPy's BLAS
and the libraries torch loads) and ``torch.set_num_threads``.

Run from the repository root (torch lives in a separate venv; the repository
root is put on ``sys.path`` automatically)::

    /path/to/venv/bin/python benchmarks/bench_kernels.py            # full run, 1 thread
    /path/to/venv/bin/python benchmarks/bench_kernels.py --threads 2
    /path/to/venv/bin/python benchmarks/bench_kernels.py --quick    # a short smoke run

Without torch it says so, times the NumPy kernels alone and exits 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import numpy as np  # noqa: E402

CONFIGS = {
    # name: (T, N, D, H)
    "A": (100, 32, 64, 128),
    "B": (25, 1, 65, 100),
    "C": (500, 16, 32, 256),
}
CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
DTYPES = ("float32", "float64")
TORCH_MISSING = "torch not installed: pip install torch==2.13.0 in a separate venv to compare"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--threads", type=int, default=1, help="BLAS / torch intra-op threads (default 1)")
    ap.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed repeats of each side, minimum reported (default 7; 3 with --quick)",
    )
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs of each side first")
    ap.add_argument("--quick", action="store_true", help="short run: T divided by 5 and 3 repeats")
    ap.add_argument("--cells", default=",".join(CELLS), help="comma list of rnn,lstm,gru")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma list of A,B,C")
    ap.add_argument("--dtypes", default=",".join(DTYPES), help="comma list of float32,float64")
    ap.add_argument(
        "--no-check", action="store_true", help="skip the check that both sides compute the same values"
    )
    args = ap.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.repeats < 1 or args.threads < 1:
        ap.error("--repeats and --threads must be >= 1")
    args.cells = [c for c in args.cells.split(",") if c]
    args.configs = [c for c in args.configs.split(",") if c]
    args.dtypes = [d for d in args.dtypes.split(",") if d]
    for c in args.cells:
        if c not in CELLS:
            ap.error(f"unknown cell {c!r}")
    for c in args.configs:
        if c not in CONFIGS:
            ap.error(f"unknown config {c!r}")
    for d in args.dtypes:
        if d not in DTYPES:
            ap.error(f"unknown dtype {d!r}")
    return args


def shape_of(config, quick):
    T, N, D, H = CONFIGS[config]
    if quick:
        T = max(1, T // 5)
    return T, N, D, H


# ----------------------------------------------------------------------------
# problem set-up


def make_problem(cell, T, N, D, H, dtype, seed=0):
    """Parameters in PyTorch layout plus data, all of ``dtype``."""
    rng = np.random.default_rng(seed)
    G = GATES[cell]
    s = 1.0 / np.sqrt(H)  # torch's default init scale
    prob = {
        "weight_ih": rng.uniform(-s, s, (G * H, D)),
        "weight_hh": rng.uniform(-s, s, (G * H, H)),
        "bias_ih": rng.uniform(-s, s, (G * H,)),
        "bias_hh": rng.uniform(-s, s, (G * H,)),
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)) * 0.1,
        "c0": rng.standard_normal((N, H)) * 0.1,
        "dout": rng.standard_normal((N, T, H)),
    }
    return {k: np.ascontiguousarray(v, dtype=dtype) for k, v in prob.items()}


def numpy_runner(nn, cell, prob):
    """A closure doing one forward + backward with the rnncourse core."""
    Wx = np.ascontiguousarray(prob["weight_ih"].T)
    Wh = np.ascontiguousarray(prob["weight_hh"].T)
    x, h0, c0, dout = prob["x"], prob["h0"], prob["c0"], prob["dout"]
    if cell == "rnn":
        b = prob["bias_ih"] + prob["bias_hh"]

        def run():
            h, cache = nn.rnn_forward(x, h0, Wx, Wh, b)
            return h, nn.rnn_backward(dout, cache)
    elif cell == "lstm":
        b = prob["bias_ih"] + prob["bias_hh"]

        def run():
            h, cache = nn.lstm_forward(x, h0, Wx, Wh, b, c0=c0)
            return h, nn.lstm_backward(dout, cache)
    else:
        bx, bh = prob["bias_ih"], prob["bias_hh"]

        def run():
            h, cache = nn.gru_forward(x, h0, Wx, Wh, bx, bh)
            return h, nn.gru_backward(dout, cache)

    return run


def torch_runner(torch, cell, prob):
    """A closure doing one forward + backward with torch.nn (CPU)."""
    dtype = torch.float32 if prob["x"].dtype == np.float32 else torch.float64
    D = prob["x"].shape[2]
    H = prob["h0"].shape[1]
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    kw = {"nonlinearity": "tanh"} if cell == "rnn" else {}
    mod = cls(D, H, num_layers=1, bias=True, batch_first=True, dtype=dtype, **kw)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(mod, name + "_l0").copy_(torch.from_numpy(prob[name]))
    x = torch.from_numpy(prob["x"].copy()).requires_grad_(True)
    h0 = torch.from_numpy(prob["h0"].copy()).unsqueeze(0).requires_grad_(True)
    c0 = torch.from_numpy(prob["c0"].copy()).unsqueeze(0).requires_grad_(True)
    dout = torch.from_numpy(prob["dout"])
    params = list(mod.parameters())
    tensors = params + [x, h0, c0]

    def run():
        for t in tensors:  # fresh gradients each time (cheap, keeps no history)
            t.grad = None
        if cell == "lstm":
            out, _ = mod(x, (h0, c0))
        else:
            out, _ = mod(x, h0)
        (out * dout).sum().backward()
        return out, x.grad, h0.grad, mod.weight_hh_l0.grad

    return run


def check_agreement(cell, np_res, th_res, dtype):
    """Both sides must compute the same forward and the same gradients."""
    h, grads = np_res
    out, dx_t, dh0_t, dwhh_t = th_res
    tol = 1e-3 if dtype == "float32" else 1e-9
    pairs = [
        ("out", h, out.detach().numpy()),
        ("dx", grads[0], dx_t.numpy()),
        ("dh0", grads[1], dh0_t.numpy()[0]),
        ("dweight_hh", grads[3].T, dwhh_t.numpy()),
    ]
    bad = []
    for name, a, b in pairs:
        scale = max(1.0, float(np.abs(b).max()))
        err = float(np.abs(np.asarray(a, dtype=np.float64) - b).max()) / scale
        if not err <= tol:
            bad.append(f"{name}: rel err {err:.2e} > {tol:.0e}")
    return bad


# ----------------------------------------------------------------------------
# timing


def _time_once(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_pair(f_np, f_th, repeats, warmup):
    """Interleaved timing; returns (min numpy seconds, min torch seconds)."""
    for _ in range(warmup):
        f_np()
        if f_th is not None:
            f_th()
    t_np, t_th = [], []
    for r in range(repeats):
        # alternate which side goes first so neither always follows the other
        if f_th is None:
            t_np.append(_time_once(f_np))
        elif r % 2 == 0:
            t_np.append(_time_once(f_np))
            t_th.append(_time_once(f_th))
        else:
            t_th.append(_time_once(f_th))
            t_np.append(_time_once(f_np))
    return min(t_np), (min(t_th) if t_th else None)


# ----------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)

    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        threadpool_limits = threadpool_info = None

    try:
        import torch
    except ImportError:
        torch = None

    try:
        import rnncourse.nn as nn
    except ImportError as exc:
        print(f"cannot import rnncourse.nn ({exc}); run from the repository checkout")
        return 1

    if torch is None:
        print(TORCH_MISSING)
        print("timing the NumPy kernels alone.\n")
    else:
        torch.set_num_threads(args.threads)

    limiter = None
    if threadpool_limits is not None:
        limiter = threadpool_limits(limits=args.threads)
    else:
        print("threadpoolctl not installed (pip install threadpoolctl): BLAS threads are NOT pinned\n")

    try:
        print(
            f"python {platform.python_version()}, numpy {np.__version__}, "
            f"torch {torch.__version__ if torch else '-'}, {platform.machine()}, "
            f"{os.cpu_count()} CPUs"
        )
        if threadpool_info is not None:
            libs = ", ".join(f"{i.get('internal_api')}({i.get('num_threads')})" for i in threadpool_info())
            print(
                f"threads pinned to {args.threads}: {libs}"
                + (f"; torch.get_num_threads()={torch.get_num_threads()}" if torch else "")
            )
        print(
            f"forward+backward, min of {args.repeats} interleaved repeats "
            f"(after {args.warmup} warm-up){', QUICK (T/5)' if args.quick else ''}\n"
        )

        header = f"{'cell':<5} {'config':<22} {'dtype':<8} {'numpy ms':>10} {'torch ms':>10} {'ratio':>7}"
        print(header)
        print("-" * len(header))
        problems = []
        for cell in args.cells:
            for config in args.configs:
                T, N, D, H = shape_of(config, args.quick)
                label = f"{config} T{T} N{N} D{D} H{H}"
                for dtype in args.dtypes:
                    prob = make_problem(cell, T, N, D, H, dtype)
                    f_np = numpy_runner(nn, cell, prob)
                    f_th = torch_runner(torch, cell, prob) if torch is not None else None
                    if f_th is not None and not args.no_check:
                        bad = check_agreement(cell, f_np(), f_th(), dtype)
                        if bad:
                            problems.append(f"{cell} {label} {dtype}: " + "; ".join(bad))
                    t_np, t_th = time_pair(f_np, f_th, args.repeats, args.warmup)
                    if t_th is None:
                        row = f"{t_np * 1e3:10.2f} {'-':>10} {'-':>7}"
                    else:
                        row = f"{t_np * 1e3:10.2f} {t_th * 1e3:10.2f} {t_np / t_th:6.2f}x"
                    print(f"{cell:<5} {label:<22} {dtype:<8} {row}", flush=True)
        print("\nratio = numpy time / torch time (below 1.00x: the NumPy core is faster)")
        if problems:
            print("\nWARNING: the two sides disagree:")
            for p in problems:
                print("  " + p)
            return 2
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
