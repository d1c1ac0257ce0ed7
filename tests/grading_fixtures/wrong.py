"""Deliberately wrong solutions, one per classic bug.

Each entry: the task, the replacement source of its solution cell (a complete, self-contained
function), and a phrase the diagnosis must contain.
"""

WRONG = {
    "missing_dh_next": (
        "ex3.rnn_backward",
        """
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache.x, cache.h0, cache.Wx, cache.Wh, cache.h
    N, T, D = x.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        da = dh[:, t] * (1 - h[:, t] ** 2)          # BUG: + dh_next forgotten
        dx[:, t] = da @ Wx.T
        dh_prev = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db
""",
        "+ dh_next",
    ),
    "lstm_missed_cell_path": (
        "ex5.lstm_step_backward",
        """
def lstm_step_backward(dh_next, dc_next, cache):
    i, f, g, o, tanh_c = cache.i, cache.f, cache.g, cache.o, cache.tanh_c
    dc = dh_next * o * (1.0 - tanh_c ** 2)          # BUG: + dc_next missing
    da = np.concatenate([dc * g * i * (1 - i), dc * cache.c_prev * f * (1 - f),
                         dc * i * (1 - g ** 2), dh_next * tanh_c * o * (1 - o)], axis=1)
    return (da @ cache.Wx.T, da @ cache.Wh.T, dc * f, cache.x.T @ da, cache.h_prev.T @ da, da.sum(axis=0))
""",
        "dc_next",
    ),
    "gru_z_swapped": (
        "ex6.gru_step_forward",
        """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    ax, ah = x @ Wx + bx, h_prev @ Wh + bh
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    hn = ah[:, 2 * H:]
    n = np.tanh(ax[:, 2 * H:] + r * hn)
    h_next = z * n + (1 - z) * h_prev                # BUG: z and 1 - z swapped
    return h_next, GRUStepCache(x, h_prev, Wx, Wh, r, z, n, hn)
""",
        "equals z * n + (1 - z) * h_prev",  # the bug's message; the probe hint is then left out
    ),
    "tanh_derivative_of_preactivation": (
        "ex3.rnn_step_backward",
        """
def rnn_step_backward(dh_next, cache):
    da = dh_next * (1.0 - np.tanh(cache.h_next) ** 2)   # BUG: tanh applied to the output again
    return (da @ cache.Wx.T, da @ cache.Wh.T, cache.x.T @ da, cache.h_prev.T @ da, da.sum(axis=0))
""",
        "1 - h_next**2",
    ),
    "bias_not_summed": (
        "ex3.rnn_step_backward",
        """
def rnn_step_backward(dh_next, cache):
    da = dh_next * (1.0 - cache.h_next ** 2)
    return (da @ cache.Wx.T, da @ cache.Wh.T, cache.x.T @ da, cache.h_prev.T @ da, da)   # BUG: db not summed
""",
        "summed over the batch",
    ),
    "transposed_weights": (
        "ex3.rnn_step_backward",
        """
def rnn_step_backward(dh_next, cache):
    da = dh_next * (1.0 - cache.h_next ** 2)
    return (da @ cache.Wx.T, da @ cache.Wh.T, cache.x.T @ da, da.T @ cache.h_prev, da.sum(axis=0))  # BUG: dWh.T
""",
        "transpose",
    ),
    "inplace_dh": (
        "ex3.rnn_backward",
        """
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache.x, cache.h0, cache.Wx, cache.Wh, cache.h
    N, T, D = x.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        dh[:, t] += dh_next                          # BUG: writes into the caller's dh
        da = dh[:, t] * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dh_next = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
    return dx, dh_next, dWx, dWh, db
""",
        "in place",
    ),
    "hardcoded_clip_threshold": (
        "ex4.clip_by_global_norm",
        """
def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    scale = min(1.0, 1.0 / norm)                     # BUG: threshold hard-coded to 1
    return {k: g * scale for k, g in grads.items()}, norm
""",
        "hard-coded",
    ),
    "hardcoded_clip_value": (
        "ex4.clip_by_value",
        """
def clip_by_value(grads, clip_value):
    return {k: np.clip(g, -0.5, 0.5) for k, g in grads.items()}    # BUG: hard-coded
""",
        "hard-coded",
    ),
    "weights_overwritten_over_time": (
        "ex3.rnn_backward",
        """
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache.x, cache.h0, cache.Wx, cache.Wh, cache.h
    N, T, D = x.shape
    dx = np.zeros((N, T, D))
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dh_next = da @ Wh.T
        dWx = x[:, t].T @ da                         # BUG: overwritten, not summed over time
        dWh = h_prev.T @ da
        db = da.sum(axis=0)
    return dx, dh_next, dWx, dWh, db
""",
        "overwritten",
    ),
    "loop_run_forwards": (
        "ex3.rnn_backward",
        """
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache.x, cache.h0, cache.Wx, cache.Wh, cache.h
    N, T, D = x.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in range(T):                               # BUG: forwards in time
        h_prev = h0 if t == 0 else h[:, t - 1]
        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dh_next = da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
    return dx, dh_next, dWx, dWh, db
""",
        "runs forwards",
    ),
    "forget_gate_tanh": (
        "ex5.lstm_step_forward",
        """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f = sigmoid(a[:, :H]), np.tanh(a[:, H:2 * H])     # BUG: forget gate with tanh
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    return o * np.tanh(c_next), c_next, None
""",
        "forget gate uses tanh",
    ),
    "lstm_sequence_drops_dc_next": (
        "ex5.lstm_backward",
        """
def lstm_backward(dh, cache):
    x, h0, c0, Wx, Wh = cache.x, cache.h0, cache.c0, cache.Wx, cache.Wh
    N, T, D = x.shape
    H = h0.shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        g = cache.gates[t]
        step = LSTMStepCache(x[:, t], h0 if t == 0 else cache.h[:, t - 1], c0 if t == 0 else cache.c[t - 1],
                             Wx, Wh, g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:], cache.c[t],
                             cache.tanh_c[t])
        dx[:, t], dh_next, _, a, b_, c = lstm_step_backward(dh[:, t] + dh_next, np.zeros((N, H)), step)  # BUG
        dWx, dWh, db = dWx + a, dWh + b_, db + c
    return dx, dh_next, dWx, dWh, db
""",
        "constant error carousel",
    ),
    "gru_sequence_no_dh_next": (
        "ex6.gru_backward",
        """
def gru_backward(dh, cache):
    x, h0, Wx, Wh = cache.x, cache.h0, cache.Wx, cache.Wh
    N, T, D = x.shape
    H = h0.shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, dbx, dbh = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(3 * H), np.zeros(3 * H)
    dh0 = None
    for t in reversed(range(T)):
        g = cache.rzn[t]
        step = GRUStepCache(x[:, t], h0 if t == 0 else cache.h[:, t - 1], Wx, Wh, g[:, :H], g[:, H:2 * H],
                            g[:, 2 * H:], cache.hn[t])
        dx[:, t], dh0, a, b_, c, d = gru_step_backward(dh[:, t], step)      # BUG: + dh_next missing
        dWx, dWh, dbx, dbh = dWx + a, dWh + b_, dbx + c, dbh + d
    return dx, dh0, dWx, dWh, dbx, dbh
""",
        "+ dh_next",
    ),
    "temperature_multiplied": (
        "ex7.temperature_softmax",
        """
def temperature_softmax(scores, tau):
    if tau == 0:
        p = np.zeros_like(scores)
        p[np.arange(len(scores)), scores.argmax(axis=1)] = 1.0
        return p
    s = scores * tau                                 # BUG: multiplied instead of divided
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
""",
        "DIVIDE",
    ),
    "embedding_fancy_index": (
        "ex2.embedding_backward",
        """
def embedding_backward(dout, cache):
    dW = np.zeros((int(cache.V), dout.shape[2]))
    dW[cache.idx] += dout                            # BUG: a repeated id keeps one contribution
    return dW
""",
        "np.add.at",
    ),
    "readout_last_step_only": (
        "ex2.temporal_affine_backward",
        """
def temporal_affine_backward(dout, cache):
    h, W = cache.h, cache.W
    dh = dout @ W.T
    for t in range(h.shape[1]):
        dW = h[:, t].T @ dout[:, t]                  # BUG: overwritten, not summed over time
        db = dout[:, t].sum(axis=0)
    return dh, dW, db
""",
        "overwritten",
    ),
    # ex8: the wiring between layers and directions (sequence_forward comes from the setup cell)
    "stacked_returns_bottom": (
        "ex8.stacked_forward",
        """
from rnncourse.nn import sequence_forward
def stacked_forward(x, h0, layer0, layer1):
    h_bottom, _ = sequence_forward("rnn", x, h0[0], layer0)
    h_top, _ = sequence_forward("rnn", h_bottom, h0[1], layer1)
    return h_bottom                                  # BUG: the bottom layer's states
""",
        "TOP layer",
    ),
    "stacked_same_h0": (
        "ex8.stacked_forward",
        """
from rnncourse.nn import sequence_forward
def stacked_forward(x, h0, layer0, layer1):
    h, _ = sequence_forward("rnn", x, h0[0], layer0)
    h, _ = sequence_forward("rnn", h, h0[0], layer1)      # BUG: layer 1 from h0[0]
    return h
""",
        "layer 1 starts from h0[1]",
    ),
    "stacked_last_state_only": (
        "ex8.stacked_forward",
        """
from rnncourse.nn import sequence_forward
def stacked_forward(x, h0, layer0, layer1):
    h, _ = sequence_forward("rnn", x, h0[0], layer0)
    last = np.stack([h[:, -1]] * x.shape[1], axis=1)      # BUG: the last state at every step
    h, _ = sequence_forward("rnn", last, h0[1], layer1)
    return h
""",
        "LAST state of layer 0",
    ),
    "bidir_not_flipped_back": (
        "ex8.bidirectional_forward",
        """
from rnncourse.nn import sequence_forward
def bidirectional_forward(x, h0_fwd, h0_rev, fwd, rev):
    h_fwd, _ = sequence_forward("rnn", x, h0_fwd, fwd)
    h_rev, _ = sequence_forward("rnn", x[:, ::-1], h0_rev, rev)
    return np.concatenate([h_fwd, h_rev], axis=2)         # BUG: reverse half left in reading order
""",
        "still in reading order",
    ),
    "bidir_input_not_reversed": (
        "ex8.bidirectional_forward",
        """
from rnncourse.nn import sequence_forward
def bidirectional_forward(x, h0_fwd, h0_rev, fwd, rev):
    h_fwd, _ = sequence_forward("rnn", x, h0_fwd, fwd)
    h_rev, _ = sequence_forward("rnn", x, h0_rev, rev)    # BUG: the reverse cell reads forwards
    return np.concatenate([h_fwd, h_rev], axis=2)
""",
        "reads x from step 1 to T",
    ),
    "bidir_swapped_halves": (
        "ex8.bidirectional_forward",
        """
from rnncourse.nn import sequence_forward
def bidirectional_forward(x, h0_fwd, h0_rev, fwd, rev):
    h_fwd, _ = sequence_forward("rnn", x, h0_fwd, fwd)
    h_rev, _ = sequence_forward("rnn", x[:, ::-1], h0_rev, rev)
    return np.concatenate([h_rev[:, ::-1], h_fwd], axis=-1)   # BUG: reverse half first
""",
        "halves are swapped",
    ),
    "bidir_forward_h0": (
        "ex8.bidirectional_forward",
        """
from rnncourse.nn import sequence_forward
def bidirectional_forward(x, h0_fwd, h0_rev, fwd, rev):
    h_fwd, _ = sequence_forward("rnn", x, h0_fwd, fwd)
    h_rev, _ = sequence_forward("rnn", x[:, ::-1], h0_fwd, rev)   # BUG: h0_fwd for the reverse cell
    return np.concatenate([h_fwd, h_rev[:, ::-1]], axis=2)
""",
        "starts from h0_fwd",
    ),
    "sample_not_fed_back": (
        "ex9.generate_rnn",
        """
from rnncourse.nn import softmax
from rnncourse.nn.cells import sequence_forward
def generate_rnn(params, prompt, u, tau):
    step = lambda x, h: sequence_forward("rnn", x[:, None], h, params)[0][:, 0]
    h = np.zeros((prompt.shape[0], params["Wh"].shape[0]))
    for t in range(prompt.shape[1]):
        h = step(params["We"][prompt[:, t]], h)
    out = []
    for j in range(u.shape[1]):
        cdf = np.cumsum(softmax((h @ params["Wy"] + params["by"]) / tau, axis=1), axis=1)
        nxt = np.minimum((cdf <= u[:, j][:, None]).sum(axis=1), cdf.shape[1] - 1)
        out.append(nxt)
        h = step(params["We"][prompt[:, -1]], h)      # BUG: feeds the prompt again, not the sample
    return np.stack(out, axis=1)
""",
        "feed back the character you have just sampled",
    ),
    "lstm_c_not_carried": (
        "ex9.generate_lstm",
        """
from rnncourse.nn import softmax
from rnncourse.nn.cells import final_state, sequence_forward
def generate_lstm(params, prompt, u, tau):
    def step(x, h, c):
        hs, cache = sequence_forward("lstm", x[:, None], h, params, c)
        return final_state("lstm", hs, cache)
    N, H = prompt.shape[0], params["Wh"].shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(prompt.shape[1]):
        h, c = step(params["We"][prompt[:, t]], h, c)
    out = []
    for j in range(u.shape[1]):
        cdf = np.cumsum(softmax((h @ params["Wy"] + params["by"]) / tau, axis=1), axis=1)
        nxt = np.minimum((cdf <= u[:, j][:, None]).sum(axis=1), cdf.shape[1] - 1)
        out.append(nxt)
        h, c = step(params["We"][nxt], h, np.zeros((N, H)))   # BUG: c starts from zero every step
    return np.stack(out, axis=1)
""",
        "carry c with h",
    ),
    "lstm_c_dropped": (
        "ex9.generate_lstm",
        """
from rnncourse.nn import softmax
from rnncourse.nn.cells import final_state, sequence_forward
def generate_lstm(params, prompt, u, tau):
    def step(x, h, c):
        hs, cache = sequence_forward("lstm", x[:, None], h, params, c)
        return final_state("lstm", hs, cache)
    N, H = prompt.shape[0], params["Wh"].shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(prompt.shape[1]):
        h, _ = step(params["We"][prompt[:, t]], h, c)       # BUG: the new c is thrown away
    out = []
    for j in range(u.shape[1]):
        cdf = np.cumsum(softmax((h @ params["Wy"] + params["by"]) / tau, axis=1), axis=1)
        nxt = np.minimum((cdf <= u[:, j][:, None]).sum(axis=1), cdf.shape[1] - 1)
        out.append(nxt)
        h, _ = step(params["We"][nxt], h, c)                 # BUG: here too
    return np.stack(out, axis=1)
""",
        "you kept c from the start",
    ),
    "bits_per_row": (
        "ex9.heldout_bits",
        """
from rnncourse.nn import log_softmax
from rnncourse.nn.cells import sequence_forward
def heldout_bits(params, x, y, h0):
    h, total = h0, np.zeros(x.shape[0])
    for t in range(x.shape[1]):
        h = sequence_forward("rnn", params["We"][x[:, t]][:, None], h, params)[0][:, 0]
        logp = log_softmax(h @ params["Wy"] + params["by"], axis=1)
        total -= logp[np.arange(x.shape[0]), y[:, t]]
    return total / (x.shape[1] * np.log(2)), h       # BUG: one number per row, not one in all
""",
        "the mean over all N * T characters",
    ),
    "bits_in_nats": (
        "ex9.heldout_bits",
        """
from rnncourse.nn import log_softmax
from rnncourse.nn.cells import sequence_forward
def heldout_bits(params, x, y, h0):
    h, total = h0, 0.0
    for t in range(x.shape[1]):
        h = sequence_forward("rnn", params["We"][x[:, t]][:, None], h, params)[0][:, 0]
        logp = log_softmax(h @ params["Wy"] + params["by"], axis=1)
        total -= logp[np.arange(x.shape[0]), y[:, t]].sum()
    return total / x.size, h                          # BUG: nats, not divided by ln 2
""",
        "divide by ln 2",
    ),
    "return_order_swapped": (
        "ex1.rnn_step_forward",
        """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return RNNStepCache(x, h_prev, Wx, Wh, h_next), h_next   # BUG: the two values swapped
""",
        # the grader's driver, not the student's code, raised: no "raised TypeError"
        "returned the wrong kind of value: `h_next` must be a NumPy array, got RNNStepCache "
        "(is the return order `h_next, cache`?)",
    ),
}
