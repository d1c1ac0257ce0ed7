"""A small sequence model (embedding or features -> cell -> per-step readout) and its training loop
(lesson 2 onwards).

The model is explicit data: a cell name, a dict of parameters and a little configuration. Nothing in
it changes behind your back: ``train`` returns a ``History`` that holds the losses, gradient norms
and the trained model; the model you passed in is left as it was.

Equations: ``e_t = We[x_t]`` (token inputs only), ``h = cell(e or x, h0)``, ``s_t = h_t Wy + by``,
loss summed over time and averaged over the batch (see ``layers``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ._checks import check_int, check_number
from .cells import final_state, get_cell, sequence_backward, sequence_forward
from .init import init_cell_params, xavier
from .layers import (
    embedding_backward,
    embedding_forward,
    mse_loss,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)
from .optim import clip_by_global_norm, clip_by_value, global_norm, make_optimizer
from .rng import as_rng

__all__ = ["SequenceModel", "History", "TrainingDiverged", "forward_loss", "predict", "train", "evaluate"]


class TrainingDiverged(FloatingPointError):
    """Raised when the loss or the gradients become NaN or inf. ``.history`` holds what was logged."""

    def __init__(self, message, history=None):
        super().__init__(message)
        self.history = history


@dataclass(frozen=True)
class SequenceModel:
    """Configuration plus parameters. Build one with ``SequenceModel.create``.

    ``params`` holds the cell's parameters (``Wx, Wh, b`` or ``Wx, Wh, bx, bh``), the readout
    ``Wy (H, K)``, ``by (K,)`` and, for token inputs, the embedding ``We (V, E)``.
    """

    cell: str
    params: dict
    loss: str = "softmax"  # "softmax" (classes) or "mse" (real values)
    vocab_size: int | None = None  # set when inputs are token ids

    @classmethod
    def create(
        cls,
        cell,
        input_dim,
        hidden_dim,
        output_dim,
        *,
        loss="softmax",
        vocab_size=None,
        embed_dim=None,
        rng=None,
        recurrent="orthogonal",
        scale=1.0,
        forget_bias=1.0,
    ):
        """``input_dim`` is D for feature inputs; with ``vocab_size`` set, inputs are token ids and
        an embedding of width ``embed_dim`` (default ``min(vocab_size, 32)``) feeds the cell.
        ``rng``: a Generator, an int seed or None (see ``rnncourse.nn.rng.as_rng``)."""
        if loss not in ("softmax", "mse"):
            raise ValueError(f"loss must be 'softmax' or 'mse', got {loss!r}")
        for name, v in (("input_dim", input_dim), ("hidden_dim", hidden_dim), ("output_dim", output_dim)):
            check_int(name, v, 1)
        rng = as_rng(rng)
        params = {}
        D = input_dim
        if vocab_size is not None:
            D = embed_dim or min(vocab_size, 32)
            params["We"] = rng.normal(scale=1.0, size=(vocab_size, D)) / np.sqrt(D)
        params.update(
            init_cell_params(
                cell, D, hidden_dim, rng, recurrent=recurrent, scale=scale, forget_bias=forget_bias
            )
        )
        params["Wy"] = xavier((hidden_dim, output_dim), rng)
        params["by"] = np.zeros(output_dim)
        return cls(cell, params, loss, vocab_size)

    @classmethod
    def for_task(cls, cell, task, hidden_dim, **kwargs):
        """A model sized for a ``rnncourse.tasks.Task``."""
        return cls.create(
            cell,
            task.input_dim,
            hidden_dim,
            task.output_dim,
            loss=task.loss,
            vocab_size=task.vocab_size,
            **kwargs,
        )

    @property
    def hidden_dim(self):
        return self.params["Wh"].shape[0]

    def with_params(self, params):
        return replace(self, params=params)


def _cell_params(model):
    return {k: model.params[k] for k in get_cell(model.cell).param_names}


def forward_loss(model, x, y, mask=None, h0=None, c0=None, params=None):
    """Loss and gradients for one batch.

    Returns ``(loss, grads, state, scores)``: ``grads`` keyed like ``params``, ``state = (h_T, c_T)``
    to carry into the next chunk, and ``scores (N, T, K)`` (predictions for mse).
    """
    params = model.params if params is None else params
    spec = get_cell(model.cell)
    if model.vocab_size is not None:
        inp, ecache = embedding_forward(x, params["We"])
    else:
        inp, ecache = x, None
    cp = {k: params[k] for k in spec.param_names}
    h, cache = sequence_forward(spec, inp, h0, cp, c0)
    scores, acache = temporal_affine_forward(h, params["Wy"], params["by"])
    if model.loss == "softmax":
        loss, dscores = temporal_softmax_loss(scores, y, mask)
    else:
        loss, dscores = mse_loss(scores, y, mask)
    dh, dWy, dby = temporal_affine_backward(dscores, acache)
    dinp, _, _, grads = sequence_backward(spec, dh, cache)
    grads["Wy"], grads["by"] = dWy, dby
    if ecache is not None:
        grads["We"] = embedding_backward(dinp, ecache)
    return loss, grads, final_state(spec, h, cache), scores


def predict(model, x, h0=None, c0=None):
    """Readout scores ``(N, T, K)`` (class scores for softmax models, values for mse models)."""
    p = model.params
    inp = embedding_forward(x, p["We"])[0] if model.vocab_size is not None else x
    h, _ = sequence_forward(model.cell, inp, h0, _cell_params(model), c0)
    return temporal_affine_forward(h, p["Wy"], p["by"])[0]


@dataclass
class History:
    """What ``train`` measured, one entry per optimisation step (plots read this)."""

    step: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)  # global norm before clipping
    clipped: list = field(default_factory=list)  # whether clipping changed the gradient
    accuracy: list = field(default_factory=list)  # masked accuracy (softmax models), else nan
    model: SequenceModel | None = None
    seconds: float = 0.0


def _accuracy(scores, y, mask):
    if mask is None:
        mask = np.ones(y.shape)
    hit = (scores.argmax(axis=-1) == y) * mask
    total = mask.sum()
    return float(hit.sum() / total) if total else float("nan")


def train(
    model,
    task,
    steps=200,
    batch_size=32,
    optimizer="adam",
    lr=1e-2,
    clip=None,
    clip_mode="norm",
    tbptt=None,
    rng=0,
    callback=None,
    callback_every=10,
    carry_state=False,
):
    """Train ``model`` on batches drawn from ``task`` and return a ``History``.

    Args:
      task: a ``rnncourse.tasks.Task`` (anything with ``sample(n, rng) -> Batch(x, y, mask)``).
      optimizer: a name ("sgd", "momentum", "adagrad", "adam") or an optimiser object.
      clip: threshold for gradient clipping (``None`` = no clipping); ``clip_mode`` is "norm"
        (rescale by the global norm) or "value" (clamp each entry).
      tbptt: truncation window ``k``; each batch is processed in chunks of ``k`` steps, the state
        is carried across chunks and the gradients of all chunks are summed into one update.
      carry_state: keep the final state of one batch as the initial state of the next (for
        streams such as text); otherwise every batch starts from zeros.
      callback: ``callback(history)`` is called every ``callback_every`` steps (for live plots).
      rng: draws the batches: a Generator, an int seed (default 0, so a rerun repeats itself) or
        None (see ``rnncourse.nn.rng.as_rng``).

    Raises ``TrainingDiverged`` as soon as the loss or the gradient norm is NaN or inf.
    """
    if clip_mode not in ("norm", "value"):
        raise ValueError(f"clip_mode must be 'norm' or 'value', got {clip_mode!r}")
    if clip is not None:
        check_number("clip", clip, 0, strict=True)
    if tbptt is not None:
        check_int("tbptt", tbptt, 1)
    check_int("steps", steps, 0)
    rng = as_rng(rng)
    opt = make_optimizer(optimizer, lr=lr) if isinstance(optimizer, str) else optimizer
    params = dict(model.params)
    state = opt.init(params)
    hist = History()
    h0 = c0 = None
    t0 = time.perf_counter()
    for step in range(steps):
        batch = task.sample(batch_size, rng)
        x, y, mask = batch.x, batch.y, batch.mask
        T = x.shape[1]
        k = T if tbptt is None else tbptt
        loss, grads, scores = 0.0, None, []
        for start in range(0, T, k):
            sl = slice(start, min(start + k, T))
            # Overflow is detected below and reported with advice instead of a bare NumPy warning.
            with np.errstate(over="ignore", invalid="ignore"):
                l, g, (h0, c0), s = forward_loss(model, x[:, sl], y[:, sl], mask[:, sl], h0, c0, params)
            loss += l
            grads = g if grads is None else {n: grads[n] + g[n] for n in grads}
            scores.append(s)
        if not carry_state:
            h0 = c0 = None
        norm = global_norm(grads)
        if not (math.isfinite(loss) and math.isfinite(norm)):
            hist.model = model.with_params(params)
            hist.seconds = time.perf_counter() - t0
            raise TrainingDiverged(
                f"training diverged at step {step}: the loss is {loss} and the gradient norm {norm:.3g}. "
                f"The gradients exploded (the last finite gradient norm was "
                f"{hist.grad_norm[-1] if hist.grad_norm else float('nan'):.3g}). "
                f"Try gradient clipping, e.g. train(..., clip=1.0), or a smaller learning rate "
                f"(lr={lr} now).",
                hist,
            )
        clipped = False
        if clip is not None:
            if clip_mode == "norm":
                grads, _ = clip_by_global_norm(grads, clip)
                clipped = norm > clip
            else:
                clipped = any(np.any(np.abs(g) > clip) for g in grads.values())
                grads = clip_by_value(grads, clip)
        params, state = opt.update(params, grads, state)
        hist.step.append(step)
        hist.loss.append(loss)
        hist.grad_norm.append(norm)
        hist.clipped.append(bool(clipped))
        hist.accuracy.append(
            _accuracy(np.concatenate(scores, axis=1), y, mask) if model.loss == "softmax" else float("nan")
        )
        if callback is not None and ((step + 1) % callback_every == 0 or step == steps - 1):
            hist.model = model.with_params(params)
            callback(hist)
    hist.model = model.with_params(params)
    hist.seconds = time.perf_counter() - t0
    return hist


def evaluate(model, batch):
    """``{"loss", "accuracy"}`` of a model on one batch (accuracy is nan for mse models)."""
    loss, _, _, scores = forward_loss(model, batch.x, batch.y, batch.mask)
    acc = _accuracy(scores, batch.y, batch.mask) if model.loss == "softmax" else float("nan")
    return {"loss": loss, "accuracy": acc}
