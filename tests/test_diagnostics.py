"""Tests for rnncourse.diagnostics: the numbers the explorers show."""

import numpy as np
import pytest

from rnncourse import diagnostics as dg
from rnncourse.nn import numeric_gradient, rnn_backward, rnn_forward, truncated_bptt


def _rnn(seed=0, N=2, T=7, D=3, H=5, radius=0.9):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T, D))
    Wx = rng.normal(scale=0.5, size=(D, H))
    Wh = dg.recurrent_matrix(H, radius, "gaussian", rng)
    b = rng.normal(scale=0.1, size=H)
    h0 = rng.normal(scale=0.5, size=(N, H))
    dh = rng.normal(size=(N, T, H))
    return x, Wx, Wh, b, h0, dh


@pytest.mark.parametrize("kind", ["gaussian", "normal", "orthogonal", "identity"])
@pytest.mark.parametrize("radius", [0.0, 0.5, 1.3])
def test_recurrent_matrix_has_requested_radius(kind, radius):
    W = dg.recurrent_matrix(6, radius, kind, rng=1)
    assert W.shape == (6, 6)
    assert dg.spectral_radius(W) == pytest.approx(radius, abs=1e-9)


def test_orthogonal_recurrent_matrix_has_equal_singular_values():
    W = dg.recurrent_matrix(8, 1.2, "orthogonal", rng=3)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.2, atol=1e-12)
    assert dg.spectral_norm(W) == pytest.approx(1.2)


def test_recurrent_matrix_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        dg.recurrent_matrix(3, 1.0, "diagonal")
    with pytest.raises(ValueError, match="radius"):
        dg.recurrent_matrix(3, -1.0)


def test_run_rnn_matches_core():
    x, Wx, Wh, b, h0, _ = _rnn()
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(dg.run_rnn(x[1], Wx, Wh, b, h0[1]), h[1])


def test_step_jacobian_matches_finite_differences():
    x, Wx, Wh, b, h0, _ = _rnn(N=1, T=4)
    h = dg.run_rnn(x[0], Wx, Wh, b, h0[0])
    J = dg.step_jacobians(h, Wh)
    t = 2  # J[t] = dh_{t+1}/dh_t with h_t = h[t-1]
    H = Wh.shape[0]
    numeric = np.stack(
        [
            numeric_gradient(lambda hp: np.tanh(x[0, t] @ Wx + hp @ Wh + b), h[t - 1], dout=np.eye(H)[i])
            for i in range(H)
        ]
    )
    np.testing.assert_allclose(J[t], numeric, atol=1e-8)


def test_jacobian_product_is_the_backward_pass():
    """A row vector g at h_T sent back through the products equals rnn_backward's dh0."""
    x, Wx, Wh, b, h0, _ = _rnn(N=1, T=6)
    h = dg.run_rnn(x[0], Wx, Wh, b, h0[0])
    P = dg.jacobian_products(h, Wh)
    g = np.random.default_rng(5).normal(size=Wh.shape[0])
    dh = np.zeros((1, 6, Wh.shape[0]))
    dh[0, -1] = g
    _, cache = rnn_forward(x, h0[:1], Wx, Wh, b)
    dh0 = rnn_backward(dh, cache)[1]
    np.testing.assert_allclose(g @ P[0], dh0[0], atol=1e-12)
    np.testing.assert_allclose(P[-1], np.eye(Wh.shape[0]))


def test_linear_regime_norms_follow_powers_of_wh():
    """h = 0 everywhere (zero input, zero start): every tanh' is 1 and dh_T/dh_k = (Wh^T)^(T-k)."""
    H, T = 6, 12
    Wh = dg.recurrent_matrix(H, 1.3, "orthogonal", rng=0)
    norms = dg.jacobian_norms(np.zeros((T, H)), Wh)
    np.testing.assert_allclose(norms, 1.3 ** (T - np.arange(T + 1)), rtol=1e-10)
    fro = dg.jacobian_norms(np.zeros((T, H)), Wh, ord="fro")
    np.testing.assert_allclose(fro, np.sqrt(H) * 1.3 ** (T - np.arange(T + 1)), rtol=1e-10)


def test_saturation_shrinks_the_product():
    H, T = 6, 12
    Wh = dg.recurrent_matrix(H, 1.3, "orthogonal", rng=0)
    sat = np.full((T, H), 0.99)
    assert dg.jacobian_norms(sat, Wh)[0] < 1e-10 < dg.jacobian_norms(np.zeros((T, H)), Wh)[0]


def test_norm_greater_than_one_does_not_mean_explosion():
    """A non-normal matrix with ||Wh||_2 = 5 but spectral radius 0.5: the product still vanishes."""
    Wh = np.array([[0.5, 5.0], [0.0, 0.5]])
    assert dg.spectral_norm(Wh) > 1 > dg.spectral_radius(Wh)
    norms = dg.jacobian_norms(np.zeros((60, 2)), Wh)
    assert norms[-2] > 1 and norms[0] < 1e-10


def test_jacobian_norms_overflow_is_inf_not_error():
    norms = dg.jacobian_norms(np.zeros((400, 3)), 10 * np.eye(3))
    assert np.isinf(norms[0]) and norms[-1] == 1
    with pytest.raises(ValueError, match="ord"):
        dg.jacobian_norms(np.zeros((3, 3)), np.eye(3), ord=1)


def test_saturation_measures():
    h = np.array([[0.0, 0.99], [0.96, -0.97]])
    assert dg.saturation_fraction(h) == 0.75
    np.testing.assert_allclose(dg.saturation_per_step(h), [0.5, 1.0])
    np.testing.assert_allclose(
        dg.mean_tanh_derivative(h), [(1 + 1 - 0.99**2) / 2, (2 - 0.96**2 - 0.97**2) / 2]
    )
    assert dg.saturation_fraction(np.zeros((0, 3))) == 0.0


def test_bptt_trace_full_matches_rnn_backward():
    x, Wx, Wh, b, h0, dh = _rnn()
    tr = dg.bptt_trace(x, Wx, Wh, b, dh, h0)
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    np.testing.assert_allclose(tr.dWh, dWh, atol=1e-12)
    np.testing.assert_allclose(tr.dWx, dWx, atol=1e-12)
    np.testing.assert_allclose(tr.db, db, atol=1e-12)
    np.testing.assert_allclose(tr.dh0, dh0, atol=1e-12)
    # dWh is the sum over time of one term per step, and dh_total = dh + dh_next
    np.testing.assert_allclose(tr.dWh_terms.sum(axis=0), dWh, atol=1e-12)
    np.testing.assert_allclose(tr.dh_total, dh.transpose(1, 0, 2) + tr.dh_next, atol=1e-12)
    assert np.all(tr.dh_next[-1] == 0)  # nothing comes back from beyond step T


@pytest.mark.parametrize("k", [1, 2, 3, 7, 50])
def test_bptt_trace_truncated_matches_core(k):
    x, Wx, Wh, b, h0, dh = _rnn()
    tr = dg.bptt_trace(x, Wx, Wh, b, dh, h0, k=k)
    _, _, grads = truncated_bptt("rnn", x, h0, {"Wx": Wx, "Wh": Wh, "b": b}, dh, k)
    np.testing.assert_allclose(tr.dWh, grads["Wh"], atol=1e-12)
    np.testing.assert_allclose(tr.dWx, grads["Wx"], atol=1e-12)


def test_truncation_cuts_at_chunk_borders():
    x, Wx, Wh, b, h0, dh = _rnn(T=9)
    tr = dg.bptt_trace(x, Wx, Wh, b, dh, h0, k=3)
    for t in (2, 5):  # last step of a chunk: nothing from the next one
        assert np.all(tr.dh_next[t] == 0)
    assert np.any(tr.dh_next[1] != 0)
    with pytest.raises(ValueError, match="truncation window"):
        dg.bptt_trace(x, Wx, Wh, b, dh, h0, k=0)


def test_truncation_errors_shrink_to_zero_at_full_window():
    x, Wx, Wh, b, h0, dh = _rnn(T=8)
    errs = dg.truncation_errors(x, Wx, Wh, b, dh, [1, 4, 8], h0)
    assert errs[0] > 1e-3 and errs[-1] < 1e-12


def test_bptt_cache_floats():
    assert dg.bptt_cache_floats(2, 100, 3, 5) == 100 * 2 * 8
    assert dg.bptt_cache_floats(2, 100, 3, 5, k=10) == 10 * 2 * 8
    assert dg.bptt_cache_floats(2, 100, 3, 5, k=500) == dg.bptt_cache_floats(2, 100, 3, 5)


def test_clipping_comparison():
    c = dg.compare_clipping(np.array([6.0, 2.0]), 1.0)
    assert c.norm == pytest.approx(np.sqrt(40))
    np.testing.assert_allclose(np.linalg.norm(c.by_norm), 1.0)
    np.testing.assert_allclose(c.by_value, [1.0, 1.0])
    assert c.angle_norm == pytest.approx(0.0, abs=1e-6)
    assert c.angle_value == pytest.approx(45 - np.degrees(np.arctan2(2, 6)))
    small = dg.compare_clipping(np.array([0.3, 0.2]), 1.0)
    assert small.angle_value == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(small.by_norm, [0.3, 0.2])


def test_angle_degrees():
    assert dg.angle_degrees([1, 0], [0, 2]) == pytest.approx(90)
    assert dg.angle_degrees([1, 1], [-1, -1]) == pytest.approx(180)
    assert dg.angle_degrees([0, 0], [1, 0]) == 0.0


def test_param_counts():
    assert dg.param_count_rnn(3, 4) == 3 * 4 + 16 + 4
    assert dg.param_count_unrolled(3, 4, 10) == 10 * dg.param_count_rnn(3, 4)


def test_train_with_snapshots():
    from rnncourse import tasks
    from rnncourse.nn import SequenceModel

    task = tasks.parity(T=4)
    model = SequenceModel.for_task("rnn", task, 4, rng=0)
    hist, snaps = dg.train_with_snapshots(model, task, steps=25, every=10, batch_size=4, rng=0)
    assert [s for s, _ in snaps] == [0, 10, 20, 25]
    assert snaps[0][1] is model
    np.testing.assert_array_equal(snaps[-1][1].params["Wh"], hist.model.params["Wh"])
    assert not np.array_equal(snaps[1][1].params["Wh"], model.params["Wh"])
