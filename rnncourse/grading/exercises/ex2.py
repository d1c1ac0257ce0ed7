"""Exercise 2 (lesson 2): the loss of a sequence, and the backward passes of the readout and of the
embedding (both shared over time, so their gradients are sums over batch AND time)."""

from __future__ import annotations

import numpy as np

from rnncourse import nn
from rnncourse.grading.exercises._common import cache_arg, dims, normal
from rnncourse.grading.verdict import Bug, Probe, TaskSpec
from rnncourse.messages import N_


def loss_inputs(N=None, T=None, masked=False, big=False):
    def make(rng):
        n, _, _, t = dims(rng)
        n, t = N or n, T or t
        V = int(rng.integers(3, 7))
        scores = normal(rng, n, t, V, scale=1000.0 if big else 1.5)
        y = rng.integers(0, V, size=(n, t))
        mask = np.ones((n, t))
        if masked:
            mask = (rng.random((n, t)) < 0.6).astype(np.float64)
            mask[0, 0], mask[-1, -1] = 1.0, 0.0
            y[mask == 0] = -1  # padding targets may be anything; the course uses -1
        return {"scores": scores, "y": y.astype(np.int64), "mask": mask}

    return make


def affine_inputs(N=None, T=None):
    def make(rng):
        n, _, H, t = dims(rng)
        K = int(rng.integers(2, 6))
        h = np.tanh(normal(rng, N or n, T or t, H))
        return {"dout": normal(rng, N or n, T or t, K), "cache.h": h, "cache.W": normal(rng, H, K)}

    return make


def embedding_inputs(repeats):
    def make(rng):
        N, D, _, T = dims(rng)
        V = N * T + 3 if not repeats else 3
        idx = rng.permutation(V)[: N * T].reshape(N, T) if not repeats else rng.integers(0, V, size=(N, T))
        if repeats:
            idx[0, :2] = idx[-1, -1]  # at least one id used three times
        return {
            "dout": normal(rng, N, T, D),
            "cache.idx": idx.astype(np.int64),
            "cache.V": np.asarray(V),
            "cache.dtype": np.asarray("float64"),
        }

    return make


def ref_embedding_backward(dout, cache):
    """``rnncourse.nn.embedding_backward`` on a cache rebuilt from plain arrays."""
    return nn.embedding_backward(dout, cache._replace(V=int(cache.V), dtype=np.dtype(str(cache.dtype))))


ref_embedding_backward.__wrapped__ = nn.embedding_backward


# ---------------------------------------------------------------------------------- bug models


def bug_loss_mean_over_steps(scores, y, mask):
    loss, d = nn.temporal_softmax_loss(scores, y, mask)
    s, N = float(np.sum(mask)), scores.shape[0]
    return loss * N / s, d * N / s


def bug_affine_last_step_only(dout, cache):
    dh, _, _ = nn.temporal_affine_backward(dout, cache)
    h = cache.h
    return dh, h[:, -1].T @ dout[:, -1], dout[:, -1].sum(axis=0)


def bug_affine_overwritten(dout, cache):
    """A loop over time that assigns (=) the weight gradients instead of adding (+=): the last
    step's wins."""
    return bug_affine_last_step_only(dout, cache)


def bug_embedding_assign(dout, cache):
    """``dW[idx] = dout`` (or ``+=`` with fancy indexing): a repeated id keeps one contribution."""
    V = int(cache.V)
    dW = np.zeros((V, dout.shape[2]))
    dW[cache.idx.reshape(-1)] += dout.reshape(-1, dout.shape[2])
    return dW


TASKS = [
    TaskSpec(
        id="ex2.temporal_softmax_loss",
        func="temporal_softmax_loss",
        points=4,
        args=(("array", "scores"), ("array", "y"), ("array", "mask")),
        returns=["loss", "dscores"],
        reference=nn.temporal_softmax_loss,
        probes=(
            Probe(
                "single",
                N_("one example, one step (N = T = 1)"),
                loss_inputs(N=1, T=1),
                N_(
                    "For one prediction loss = -log softmax(scores)[y] and dscores = softmax(scores) - "
                    "onehot(y)."
                ),
            ),
            Probe(
                "batch",
                N_("a batch of sequences, mask of ones"),
                loss_inputs(),
                N_(
                    "The loss is summed over time steps and averaged over the batch: divide by N only; "
                    "dscores gets the same 1/N."
                ),
            ),
            Probe(
                "mask",
                N_("with a mask (masked targets are -1)"),
                loss_inputs(masked=True),
                N_(
                    "Steps with mask = 0 must add nothing to the loss and get zero gradient (their target "
                    "may be -1); still divide by N, not by the number of unmasked steps."
                ),
            ),
            Probe(
                "large",
                N_("scores of size 1000"),
                loss_inputs(big=True),
                N_(
                    "Large scores overflow exp(): subtract each row's maximum before exponentiating "
                    "(or use a log-softmax)."
                ),
            ),
        ),
        bugs=(
            Bug(
                bug_loss_mean_over_steps,
                N_(
                    "Your loss is averaged over the unmasked steps; the course "
                    "sums over time and averages over the batch only (divide by "
                    "N)."
                ),
            ),
        ),
    ),
    TaskSpec(
        id="ex2.temporal_affine_backward",
        func="temporal_affine_backward",
        points=2,
        args=(("array", "dout"), cache_arg("rnncourse.nn.layers.AffineCache")),
        returns=["dh", "dW", "db"],
        reference=nn.temporal_affine_backward,
        probes=(
            Probe(
                "one-step",
                N_("one example, one step (N = T = 1)"),
                affine_inputs(N=1, T=1),
                N_(
                    "For one step out = h W + b, so dh = dout W^T, dW = h^T dout and db = dout. Check the "
                    "transposes against the shapes: dW is (H, K)."
                ),
            ),
            Probe(
                "one-example",
                N_("one example, several steps (N = 1)"),
                affine_inputs(N=1),
                N_(
                    "Right for one step, wrong for several: W and b are used at EVERY step, so dW and db "
                    "are sums over time."
                ),
            ),
            Probe(
                "batch",
                N_("a batch of sequences"),
                affine_inputs(),
                N_("Right for one sequence, wrong for a batch: dW and db are sums over the batch too."),
            ),
        ),
        bugs=(
            Bug(
                bug_affine_overwritten,
                N_(
                    "Your dW and db hold only the LAST time step: the weight "
                    "gradients were overwritten (=) in the loop over time instead "
                    "of summed (+=)."
                ),
            ),
        ),
    ),
    TaskSpec(
        id="ex2.embedding_backward",
        func="embedding_backward",
        points=2,
        args=(("array", "dout"), cache_arg("rnncourse.nn.layers.EmbeddingCache")),
        returns="dW",
        reference=ref_embedding_backward,
        probes=(
            Probe(
                "distinct",
                N_("every token id used once"),
                embedding_inputs(repeats=False),
                N_(
                    "Row idx[n, t] of dW receives dout[n, t]; every other row stays 0. dW has shape (V, D) "
                    "with V = cache.V."
                ),
            ),
            Probe(
                "repeats",
                N_("token ids used several times"),
                embedding_inputs(repeats=True),
                N_(
                    "Right when every id is used once, wrong when one repeats: a row used k times must "
                    "receive the SUM of its k gradients. `dW[idx] += dout` keeps only one of them; use "
                    "np.add.at(dW, idx, dout) or a loop."
                ),
            ),
        ),
        bugs=(
            Bug(
                bug_embedding_assign,
                N_(
                    "A repeated token id kept only one of its gradients: `dW[idx] += "
                    "dout` with fancy indexing does not accumulate; use "
                    "np.add.at."
                ),
            ),
        ),
    ),
]
