"""Tests for rnncourse.tasks: shapes, determinism, targets, grammar, corpus, arguments."""

import math

import numpy as np
import pytest

from rnncourse import tasks as tk

N = 16

ALL_TASKS = [
    ("sine", {}),
    ("sine", {"T": 7, "noise": 0.1}),
    ("parity", {}),
    ("parity", {"T": 5, "many_to_one": True}),
    ("adding", {"T": 20}),
    ("copy_memory", {"n_symbols": 5, "length": 4, "delay": 3}),
    ("embedded_reber", {}),
    ("embedded_reber", {"lag": 6}),
    ("char_lm", {"T": 12}),
]


@pytest.fixture(scope="module")
def built():
    return {(name, tuple(sorted(kw.items()))): tk.get_task(name, **kw) for name, kw in ALL_TASKS}


def _task(built, name, kw):
    return built[(name, tuple(sorted(kw.items())))]


@pytest.mark.parametrize("name,kw", ALL_TASKS)
def test_batch_shapes_and_dtypes(built, name, kw):
    task = _task(built, name, kw)
    assert task.name == name and task.loss in ("softmax", "mse")
    b = task.sample(N, np.random.default_rng(0))
    assert isinstance(b, tk.Batch)
    if task.vocab_size is None:
        assert b.x.shape == (N, task.T, task.input_dim) and b.x.dtype == np.float64
    else:
        assert task.input_dim == task.vocab_size
        assert b.x.shape == (N, task.T) and b.x.dtype == np.int64
        assert b.x.min() >= 0 and b.x.max() < task.vocab_size
    if task.loss == "softmax":
        assert b.y.shape == (N, task.T) and b.y.dtype == np.int64
        assert b.y.min() >= 0 and b.y.max() < task.output_dim
        assert 0 < task.chance_accuracy <= 1
    else:
        assert b.y.shape == (N, task.T, task.output_dim) and b.y.dtype == np.float64
        assert task.chance_accuracy is None
    assert b.mask.shape == (N, task.T) and b.mask.dtype == np.float64
    assert set(np.unique(b.mask)) <= {0.0, 1.0}
    assert b.mask.sum(axis=1).min() >= 1
    assert task.chance_loss > 0 and task.description


@pytest.mark.parametrize("name,kw", ALL_TASKS)
def test_same_seed_same_batch(built, name, kw):
    task = _task(built, name, kw)
    a = task.sample(8, np.random.default_rng(42))
    b = task.sample(8, np.random.default_rng(42))
    c = task.sample(8, np.random.default_rng(43))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.x, c.x)
    # a fresh factory call gives the same task behaviour too
    d = tk.get_task(name, **kw).sample(8, 42)
    np.testing.assert_array_equal(a.x, d.x)


def test_sine_next_value_and_chance():
    task = tk.sine(T=30)
    b = task.sample(2000, np.random.default_rng(1))
    np.testing.assert_allclose(b.x[:, 1:, 0], b.y[:, :-1, 0])  # noise-free: y is x shifted
    assert np.all(b.mask == 1)
    assert abs(np.mean(b.y**2) - task.chance_loss) < 0.05
    persist = np.mean((b.y - b.x) ** 2)
    assert abs(persist - task.extra["persistence_loss"]) < 0.02
    noisy = tk.sine(T=30, noise=0.5).sample(4, np.random.default_rng(1))
    assert not np.allclose(noisy.x[:, 1:, 0], noisy.y[:, :-1, 0])


@pytest.mark.parametrize("many_to_one", [False, True])
def test_parity_targets(many_to_one):
    task = tk.parity(T=9, many_to_one=many_to_one)
    b = task.sample(64, np.random.default_rng(3))
    bits = b.x[..., 0]
    assert set(np.unique(bits)) <= {0.0, 1.0}
    for t in range(task.T):
        np.testing.assert_array_equal(b.y[:, t], bits[:, : t + 1].sum(axis=1).astype(int) % 2)
    expected_mask = np.zeros((64, 9))
    expected_mask[:, -1] = 1
    np.testing.assert_array_equal(b.mask, expected_mask if many_to_one else np.ones((64, 9)))
    assert task.chance_loss == pytest.approx(math.log(2)) and task.chance_accuracy == 0.5


@pytest.mark.parametrize("T", [2, 3, 51])
def test_adding_targets(T):
    task = tk.adding(T=T)
    b = task.sample(128, np.random.default_rng(4))
    values, markers = b.x[..., 0], b.x[..., 1]
    assert np.all((values >= 0) & (values < 1))
    half = T // 2
    np.testing.assert_array_equal(markers[:, :half].sum(1), 1)
    np.testing.assert_array_equal(markers[:, half:].sum(1), 1)
    np.testing.assert_allclose(b.y[:, -1, 0], (values * markers).sum(1))
    assert np.all(b.y[:, :-1] == 0)
    np.testing.assert_array_equal(b.mask[:, -1], 1)
    assert b.mask[:, :-1].sum() == 0
    assert task.chance_loss == pytest.approx(1 / 6)


def test_adding_chance_matches_constant_one():
    b = tk.adding(T=10).sample(20000, np.random.default_rng(5))
    assert np.mean((b.y[:, -1, 0] - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.01)


def test_copy_targets():
    n_symbols, length, delay = 6, 5, 7
    task = tk.copy_memory(n_symbols, length, delay)
    assert task.T == 2 * length + delay + 1
    assert task.input_dim == n_symbols + 2 and task.output_dim == n_symbols
    b = task.sample(32, np.random.default_rng(6))
    np.testing.assert_array_equal(b.x.sum(-1), 1)  # exactly one-hot
    ids = b.x.argmax(-1)
    data = ids[:, :length]
    assert data.max() < n_symbols
    np.testing.assert_array_equal(ids[:, length : length + delay], n_symbols)
    np.testing.assert_array_equal(ids[:, length + delay], n_symbols + 1)
    np.testing.assert_array_equal(ids[:, length + delay + 1 :], n_symbols)
    np.testing.assert_array_equal(b.y[:, -length:], data)
    np.testing.assert_array_equal(b.mask[:, -length:], 1)
    assert b.mask[:, :-length].sum() == 0
    assert task.extra["recall_start"] == task.T - length


# ----------------------------------------------------------------- Reber


def test_reber_strings_are_accepted():
    rng = np.random.default_rng(7)
    for _ in range(300):
        assert tk.is_reber(tk.reber_string(rng))
    for lag in (0, 3):
        for _ in range(300):
            s = tk.embedded_reber_string(rng, lag=lag)
            assert tk.is_embedded_reber(s) and tk.is_embedded_reber(s, lag=lag)
            assert not tk.is_embedded_reber(s, lag=lag + 1)


def test_reber_known_examples():
    for s in ["BTXSE", "BPVVE", "BTSSXXTVVE", "BPVPSE", "BPTTVPXVVE"]:
        assert tk.is_reber(s), s
    for s in ["", "B", "BE", "BTSE", "BTXSEE", "TXSE", "BTXS", "BPVVVE", "BTXXE", 5, None]:
        assert not tk.is_reber(s), s
    assert tk.is_embedded_reber("BTBTXSETE")
    assert tk.is_embedded_reber("BP--BPVVEPE", lag=2)
    for s in ["BTBTXSEPE", "BPBTXSETE", "BTBTXSET", "BXBTXSEXE", "BT-BTX-SETE", "BTBTXSE-TE"]:
        assert not tk.is_embedded_reber(s), s


def test_reber_corrupted_strings_rejected():
    rng = np.random.default_rng(8)
    swap = {"T": "P", "P": "T"}
    for _ in range(200):
        s = tk.embedded_reber_string(rng, lag=2)
        # flip the long-range symbol at the end
        assert not tk.is_embedded_reber(s[:-2] + swap[s[-2]] + "E")
        # drop the inner "B", or the inner "E"
        assert not tk.is_embedded_reber(s[:4] + s[5:])
        assert not tk.is_embedded_reber(s[:-3] + s[-2:])
        # one filler too many or too few for the stated lag
        assert tk.is_embedded_reber(s, lag=2)
        assert not tk.is_embedded_reber(s[:2] + "-" + s[2:], lag=2)
        assert not tk.is_embedded_reber(s[:2] + s[3:], lag=2)
        # a second symbol that is neither T nor P
        assert not tk.is_embedded_reber(s[0] + "X" + s[2:])
        # insert a symbol that never follows "B" inside
        assert not tk.is_embedded_reber(s[:5] + "E" + s[5:])


def _decode_rows(task, b):
    """Rebuild the strings of a Reber batch from x and the last target."""
    out = []
    for i in range(b.x.shape[0]):
        m = int(b.mask[i].sum())
        ids = list(b.x[i, :m].argmax(-1)) + [b.y[i, m - 1]]
        out.append("".join(task.symbols[k] for k in ids))
    return out


@pytest.mark.parametrize("lag", [0, 5])
def test_reber_task_batches(lag):
    task = tk.embedded_reber(lag=lag)
    assert task.T == lag + 24 and task.extra["lag"] == lag
    b = task.sample(64, np.random.default_rng(9))
    m = b.mask.sum(1).astype(int)
    for i, s in enumerate(_decode_rows(task, b)):
        assert tk.is_embedded_reber(s, lag=lag)
        assert b.mask[i, : m[i]].all() and not b.mask[i, m[i] :].any()
        assert not b.x[i, m[i] :].any() and not b.y[i, m[i] :].any()  # zero padding
        ids = b.x[i, : m[i]].argmax(-1)
        np.testing.assert_array_equal(b.y[i, : m[i] - 1], ids[1:])  # y is x shifted
    assert task.extra["optimal_loss"] < task.chance_loss < math.log(task.output_dim)


def test_reber_critical_positions_and_lag_distance():
    distances = {}
    for lag in (0, 4, 10):
        task = tk.embedded_reber(lag=lag)
        b = task.sample(200, np.random.default_rng(10))
        rows, cols = tk.reber_critical_positions(b)
        second = b.x[:, 1].argmax(-1)
        np.testing.assert_array_equal(b.y[rows, cols], second)
        assert set(task.symbols[k] for k in b.y[rows, cols]) == {"T", "P"}
        assert np.all(b.y[rows, cols + 1] == task.symbols.index("E"))
        # the symbol to remember is the input at step 1; it is needed at step `cols`
        distances[lag] = cols - 1
        assert distances[lag].min() == 5 + lag  # shortest inner Reber string has length 5
    # lag consumes no randomness, so the same seed gives the same inner strings, shifted by lag
    np.testing.assert_array_equal(distances[4], distances[0] + 4)
    np.testing.assert_array_equal(distances[10], distances[0] + 10)


def test_reber_long_strings_redrawn_to_fit_T():
    task = tk.embedded_reber(lag=1, T=9)
    b = task.sample(20, np.random.default_rng(11))
    assert b.x.shape == (20, 9, 8) and np.all(b.mask.sum(1) == 9)


# ----------------------------------------------------------------- text


def test_corpus_loads_offline_and_round_trips():
    text = tk.load_corpus()
    assert 20_000 <= len(text.encode("utf-8")) <= 60_000
    assert tk.load_corpus("default") == text and tk.list_corpora() == ["default", "devil", "tang300"]
    vocab = tk.CharVocab.from_text(text)
    assert vocab.size == len(vocab) == len(set(text)) and list(vocab.chars) == sorted(set(text))
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    assert vocab.decode(ids[:50].reshape(5, 10)) == text[:50]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("\u00e9")


def test_corpus_matches_its_generator():
    from rnncourse.data import make_corpus

    assert make_corpus.generate() == tk.load_corpus()


def test_char_lm_windows():
    text = "abcdefghij" * 5
    task = tk.char_lm(T=8, text=text)
    assert task.vocab_size == 10 and task.symbols == "abcdefghij"
    vocab = task.extra["vocab"]
    b = task.sample(30, np.random.default_rng(12))
    for i in range(30):
        xs, ys = vocab.decode(b.x[i]), vocab.decode(b.y[i])
        assert xs in text and ys in text and xs[1:] == ys[:-1]
    assert task.chance_loss == pytest.approx(math.log(10))
    assert task.chance_accuracy == pytest.approx(0.1)
    default = tk.char_lm()
    assert default.T == 32 and default.vocab_size == tk.CharVocab.from_text(tk.load_corpus()).size


# ----------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "call,arg,error",
    [
        (lambda: tk.sine(T=0), "T", ValueError),
        (lambda: tk.sine(T=2.5), "T", TypeError),
        (lambda: tk.sine(noise=-1), "noise", ValueError),
        (lambda: tk.sine(freq_range=(2, 1)), "freq_range", ValueError),
        (lambda: tk.sine(freq_range=(1, 9)), "freq_range", ValueError),
        (lambda: tk.sine(freq_range="ab"), "freq_range", ValueError),
        (lambda: tk.parity(T=True), "T", TypeError),
        (lambda: tk.parity(many_to_one="yes"), "many_to_one", TypeError),
        (lambda: tk.adding(T=1), "T", ValueError),
        (lambda: tk.copy_memory(n_symbols=1), "n_symbols", ValueError),
        (lambda: tk.copy_memory(length=0), "length", ValueError),
        (lambda: tk.copy_memory(delay=-1), "delay", ValueError),
        (lambda: tk.embedded_reber(lag=-2), "lag", ValueError),
        (lambda: tk.embedded_reber(lag=3, T=10), "T", ValueError),
        (lambda: tk.embedded_reber_string(np.random.default_rng(0), lag=1.5), "lag", TypeError),
        (lambda: tk.char_lm(T=0), "T", ValueError),
        (lambda: tk.char_lm(T=10, text="short"), "text", ValueError),
        (lambda: tk.load_corpus("nope"), "name", ValueError),
        (lambda: tk.get_task("nope"), "name", ValueError),
        (lambda: tk.CharVocab("aa"), "chars", ValueError),
        (lambda: tk.parity().sample(0, np.random.default_rng(0)), "n", ValueError),
        (lambda: tk.parity().sample(4, "seed"), "rng", TypeError),
        (lambda: tk.reber_critical_positions(tk.parity().sample(2, 0)), "batch", ValueError),
    ],
)
def test_bad_arguments_raise_a_clear_error(call, arg, error):
    """TypeError for a wrong type, ValueError for a wrong value (the course's one policy)."""
    with pytest.raises(error) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(arg + " ") and "got" in msg


def test_error_message_names_expected_and_given():
    with pytest.raises(ValueError, match=r"^T must be an integer >= 2, got 1$"):
        tk.adding(T=1)


def test_registry():
    assert set(tk.TASKS) == {"sine", "parity", "adding", "copy_memory", "embedded_reber", "char_lm"}
    for name, factory in tk.TASKS.items():
        assert factory().name == name
    assert tk.get_task("parity", T=4).T == 4


# ---------------------------------------------------------------------------
# Sequential stream (for train(..., carry_state=True))
# ---------------------------------------------------------------------------


def test_char_stream_rows_continue_across_batches():
    text = "".join(chr(ord("a") + (i * 7) % 26) for i in range(1000))
    task = tk.char_stream(T=5, batch_size=4, text=text)
    stream = task.extra["stream"]
    ids = task.extra["vocab"].encode(text)
    L = stream.row_length
    assert L == (len(text) - 1) // 4 and stream.batches_per_epoch == L // 5
    b0, b1 = task.sample(4, None), task.sample(4, np.random.default_rng(0))
    assert stream.next_index == 2
    for b in range(4):
        # row b reads the text from b * L on, without a gap between batch 0 and batch 1
        row = np.concatenate([b0.x[b], b1.x[b]])
        np.testing.assert_array_equal(row, ids[b * L : b * L + 10])
        np.testing.assert_array_equal(b0.y[b], ids[b * L + 1 : b * L + 6])
        # the first input of the next batch is the last target of this one
        assert b1.x[b, 0] == b0.y[b, -1]
    assert b0.x.shape == (4, 5) and b0.x.dtype == np.int64 and np.all(b0.mask == 1)
    # batch(k) is pure; after an epoch the stream starts again
    np.testing.assert_array_equal(stream.batch(1).x, b1.x)
    np.testing.assert_array_equal(stream.batch(stream.batches_per_epoch).x, b0.x)
    stream.reset()
    np.testing.assert_array_equal(task.sample(4, 0).x, b0.x)


def test_char_stream_matches_char_lm_and_checks_arguments():
    task, lm = tk.char_stream(T=16, batch_size=8), tk.char_lm(T=16)
    assert task.extra["vocab"] == lm.extra["vocab"] and task.chance_loss == lm.chance_loss
    assert (task.input_dim, task.output_dim, task.vocab_size) == (lm.input_dim, lm.output_dim, lm.vocab_size)
    with pytest.raises(ValueError, match="batch_size = 8"):
        task.sample(4, 0)
    with pytest.raises(ValueError, match="batch_size"):
        tk.char_stream(T=4, batch_size=0)
    with pytest.raises(ValueError, match="at least batch_size"):
        tk.char_stream(T=10, batch_size=4, text="too short")


def test_char_stream_carry_state_sees_the_text_as_one_sequence():
    """Training with carried state on the stream = one forward pass over each whole row."""
    from rnncourse.nn import SequenceModel, forward_loss, train

    text = tk.load_corpus()[:2000]
    task = tk.char_stream(T=6, batch_size=3, text=text)
    model = SequenceModel.for_task("gru", task, 8, rng=0)
    stream = task.extra["stream"]
    # loss of three consecutive batches with carried state, no update (lr = 0)
    hist = train(model, task, steps=3, batch_size=3, optimizer="sgd", lr=0.0, carry_state=True)
    stream.reset()
    whole = [stream.batch(k) for k in range(3)]
    x = np.concatenate([b.x for b in whole], axis=1)
    y = np.concatenate([b.y for b in whole], axis=1)
    loss_total = forward_loss(model, x, y, np.ones(y.shape))[0]
    assert np.isclose(sum(hist.loss), loss_total), (sum(hist.loss), loss_total)
