"""The model, the optimisers, clipping and the training loop."""

import numpy as np
import pytest

from rnncourse import nn, tasks


def test_clip_by_global_norm_keeps_direction_and_value_clipping_turns_it():
    g = {"a": np.array([3.0, 0.1]), "b": np.array([[4.0]])}
    clipped, norm = nn.clip_by_global_norm(g, 1.0)
    assert norm == pytest.approx(np.sqrt(9 + 0.01 + 16))
    assert nn.global_norm(clipped) == pytest.approx(1.0)
    flat = np.concatenate([v.ravel() for v in g.values()])
    cflat = np.concatenate([v.ravel() for v in clipped.values()])
    assert np.allclose(cflat / np.linalg.norm(cflat), flat / np.linalg.norm(flat))
    same, _ = nn.clip_by_global_norm(g, 100.0)
    assert all(np.array_equal(same[k], g[k]) for k in g)
    v = nn.clip_by_value(g, 0.5)
    vflat = np.concatenate([x.ravel() for x in v.values()])
    np.testing.assert_array_equal(vflat, [0.5, 0.1, 0.5])
    cos = vflat @ flat / np.linalg.norm(vflat) / np.linalg.norm(flat)
    assert cos < 0.99  # the direction changed
    assert g["a"][0] == 3.0  # inputs untouched


@pytest.mark.parametrize("name,lr", [("sgd", 0.1), ("momentum", 0.05), ("adagrad", 0.5), ("adam", 0.1)])
def test_optimisers_minimise_a_quadratic_without_mutating(name, lr):
    opt = nn.make_optimizer(name, lr=lr)
    params = {"w": np.array([3.0, -2.0])}
    start = params["w"].copy()
    state = opt.init(params)
    p = params
    for _ in range(300):
        p, state = opt.update(p, {"w": p["w"]}, state)  # gradient of |w|^2 / 2
    assert np.linalg.norm(p["w"]) < 1e-2
    np.testing.assert_array_equal(params["w"], start)


def test_init():
    rng = np.random.default_rng(0)
    Q = nn.orthogonal(6, rng)
    np.testing.assert_allclose(Q @ Q.T, np.eye(6), atol=1e-12)
    assert nn.spectral_radius(nn.identity(4, 0.9)) == pytest.approx(0.9)
    p = nn.init_cell_params("lstm", 3, 5, rng, forget_bias=1.0)
    assert p["Wx"].shape == (3, 20) and p["Wh"].shape == (5, 20)
    np.testing.assert_array_equal(p["b"][5:10], 1.0)
    np.testing.assert_array_equal(p["b"][:5], 0.0)
    g = nn.init_cell_params("gru", 3, 5, rng, recurrent="orthogonal", scale=0.5)
    np.testing.assert_allclose(g["Wh"][:, :5] @ g["Wh"][:, :5].T, 0.25 * np.eye(5), atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_training_learns_parity_and_leaves_the_model_alone(cell):
    task = tasks.parity(T=6)
    model = nn.SequenceModel.for_task(cell, task, 16, rng=0)
    before = {k: v.copy() for k, v in model.params.items()}
    hist = nn.train(model, task, steps=300, batch_size=32, lr=0.02, rng=1)
    assert len(hist.loss) == 300 and len(hist.grad_norm) == 300
    assert np.mean(hist.loss[-10:]) < 0.5 * np.mean(hist.loss[:10]), (hist.loss[:5], hist.loss[-5:])
    assert np.mean(hist.accuracy[-10:]) > 0.9
    for k in before:
        np.testing.assert_array_equal(model.params[k], before[k])
    assert hist.model is not model
    acc = nn.evaluate(hist.model, task.sample(200, np.random.default_rng(9)))["accuracy"]
    assert acc > 0.9


def test_training_on_token_inputs_and_mse():
    text = tasks.char_lm(T=16)
    m = nn.SequenceModel.for_task("gru", text, 32, rng=0)
    h = nn.train(m, text, steps=60, batch_size=16, lr=0.01, rng=0, clip=5.0)
    assert h.loss[-1] < h.loss[0]
    sine = tasks.sine(T=30)
    m = nn.SequenceModel.for_task("rnn", sine, 16, rng=0)
    h = nn.train(m, sine, steps=100, lr=0.01, rng=0)
    assert np.mean(h.loss[-5:]) < 0.3 * np.mean(h.loss[:5])
    assert np.all(np.isnan(h.accuracy))


def test_truncated_training_and_callback():
    task = tasks.parity(T=12)
    model = nn.SequenceModel.for_task("lstm", task, 8, rng=0)
    seen = []
    hist = nn.train(
        model, task, steps=20, tbptt=4, rng=0, callback=lambda h: seen.append(len(h.loss)), callback_every=5
    )
    assert seen == [5, 10, 15, 20]
    assert len(hist.loss) == 20 and all(np.isfinite(hist.loss))


def test_divergence_raises_a_helpful_error():
    task = tasks.adding(T=40)
    model = nn.SequenceModel.for_task("rnn", task, 32, rng=0, recurrent="normal", scale=3.0)
    with pytest.raises(nn.TrainingDiverged) as info:
        nn.train(model, task, steps=200, optimizer="sgd", lr=5.0, rng=0)
    msg = str(info.value)
    assert "exploded" in msg and "clip" in msg and "learning rate" in msg
    assert info.value.history is not None and len(info.value.history.loss) < 200
    # and the remedy named in the message works
    hist = nn.train(model, task, steps=200, optimizer="sgd", lr=5.0, rng=0, clip=1.0)
    assert all(np.isfinite(hist.loss)) and any(hist.clipped)


def test_train_validates_arguments():
    task = tasks.parity(T=4)
    model = nn.SequenceModel.for_task("rnn", task, 4, rng=0)
    for kw, word in [
        ({"clip_mode": "sign"}, "clip_mode"),
        ({"clip": -1}, "clip"),
        ({"tbptt": 0}, "tbptt"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"steps": -1}, "steps"),
    ]:
        with pytest.raises(ValueError, match=word):
            nn.train(model, task, **kw)
    with pytest.raises(ValueError, match="hidden_dim"):
        nn.SequenceModel.create("rnn", 1, 0, 2)


def test_chance_sequence_loss_is_on_the_training_loss_scale():
    """An untrained model's first loss is near the task's chance level once both use one scale."""
    for task, cell in (
        (tasks.parity(T=8), "rnn"),
        (tasks.adding(T=20), "gru"),
        (tasks.copy_memory(length=3, delay=4), "lstm"),
    ):
        model = nn.SequenceModel.for_task(cell, task, 8, rng=0)
        chance = task.chance_sequence_loss()
        batch = task.sample(512, np.random.default_rng(1))
        # zero weights in the readout: a constant guess, uniform (softmax) or the mean target (mse)
        by = 0 * model.params["by"]
        if task.loss == "mse":
            by = by + (batch.y * batch.mask[..., None]).sum((0, 1)) / batch.mask.sum()
        flat = model.with_params({**model.params, "Wy": 0 * model.params["Wy"], "by": by})
        loss = nn.evaluate(flat, batch)["loss"]
        assert chance * 0.9 <= loss <= chance * 1.6, (task.name, loss, chance)
