"""A correct learner file in bptt's own convention (the book's names, row-vector batches).

The tutorial's exercises are these functions; docs/tutorial.ipynb runs with them filled in.
Shapes: x_t (B, I), h (B, H), U (G*H, I), W (G*H, H), b (G*H,); sequences (T, B, ...).
"""
import numpy as np


def dense_forward(x, M, v):
    """out = x M^T + v over any leading axes: the article's densely connected layer."""
    return x @ M.T + v


def dense_backward(dout, x, M):
    n_out, n_in = M.shape
    d2, x2 = dout.reshape(-1, n_out), x.reshape(-1, n_in)
    return dout @ M, d2.T @ x2, d2.sum(axis=0)


def softmax_loss(o, y):
    """L = sum over t of -log yhat(t)[y(t)], averaged over the batch; and dL/do (T, B, O)."""
    T, B, O = o.shape
    z = np.exp(o - o.max(axis=-1, keepdims=True))
    yhat = z / z.sum(axis=-1, keepdims=True)
    t, b = np.indices((T, B))
    L = -np.log(yhat[t, b, y]).sum() / B
    do = yhat.copy()
    do[t, b, y] -= 1
    return L, do / B


def step_forward(x_t, h_prev, U, W, b):
    h = np.tanh(b + h_prev @ W.T + x_t @ U.T)         # a(t) = b + W h(t-1) + U x(t)
    return h, (x_t, h_prev, h, U, W)


def step_backward(dh, cache):
    x_t, h_prev, h, U, W = cache
    da = (1 - h ** 2) * dh                              # dL/da(t)
    return da @ U, da @ W, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)


def forward(x, h0, U, W, b):
    T = x.shape[0]
    h, caches = np.zeros((T, *h0.shape)), []
    h_prev = h0
    for t in range(T):
        h_prev, cache = step_forward(x[t], h_prev, U, W, b)
        h[t] = h_prev
        caches.append(cache)
    return h, caches


def backward(dh, cache):
    T, B, H = dh.shape
    U, W = cache[0][3], cache[0][4]
    dx = np.zeros((T, B, U.shape[1]))
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(H)
    dh_next = np.zeros((B, H))                          # W^T dL/da(t+1)
    for t in reversed(range(T)):
        dx[t], dh_next, dU_t, dW_t, db_t = step_backward(dh[t] + dh_next, cache[t])
        dU += dU_t
        dW += dW_t
        db += db_t
    return dx, dh_next, dU, dW, db


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def lstm_cell_step_forward(x_t, h_prev, s_prev, U, W, b):
    H = h_prev.shape[1]
    z = b + h_prev @ W.T + x_t @ U.T                    # gate blocks i, f, g, o
    i, f, g, o = _sigmoid(z[:, :H]), _sigmoid(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), _sigmoid(z[:, 3 * H:])
    s = f * s_prev + i * g
    h = o * np.tanh(s)
    return h, s, (x_t, h_prev, s_prev, s, i, f, g, o, U, W)


def lstm_cell_step_backward(dh, ds, cache):
    x_t, h_prev, s_prev, s, i, f, g, o, U, W = cache
    ts = np.tanh(s)
    ds = ds + dh * o * (1 - ts ** 2)
    dz = np.hstack([ds * g * i * (1 - i), ds * s_prev * f * (1 - f), ds * i * (1 - g ** 2), dh * ts * o * (1 - o)])
    return dz @ U, dz @ W, ds * f, dz.T @ x_t, dz.T @ h_prev, dz.sum(axis=0)


def truncated_backward(dh, cache, k):
    """BPTT in windows of k steps from the start: nothing is sent back across a window's first step."""
    T, B, H = dh.shape
    U, W = cache[0][3], cache[0][4]
    dx = np.zeros((T, B, U.shape[1]))
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(H)
    dh_next = np.zeros((B, H))
    for t in reversed(range(T)):
        dx[t], dh_next, dU_t, dW_t, db_t = step_backward(dh[t] + dh_next, cache[t])
        if t % k == 0:                                  # a window's first step: truncation drops what it sends back
            dh_next = np.zeros((B, H))
        dU += dU_t
        dW += dW_t
        db += db_t
    return dx, dU, dW, db


def clip_gradients(grads, max_norm):
    """Scale every gradient by max_norm / total when their global norm, total, exceeds max_norm."""
    total = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    scale = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * scale for k, g in grads.items()}
