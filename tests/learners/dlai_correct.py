"""A correct learner file in deeplearning.ai's column-major convention (the checker must pass it)."""
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def rnn_cell_forward(xt, a_prev, parameters):
    p = parameters
    a_next = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    yt_pred = softmax(p["Wya"] @ a_next + p["by"])
    return a_next, yt_pred, (a_next, a_prev, xt, parameters)


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, p = cache
    dz = (1 - a_next ** 2) * da_next
    return {"dxt": p["Wax"].T @ dz, "da_prev": p["Waa"].T @ dz, "dWax": dz @ xt.T, "dWaa": dz @ a_prev.T,
            "dba": dz.sum(axis=1, keepdims=True)}


def rnn_forward(x, a0, parameters):
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape
    a, y_pred, caches = np.zeros((n_a, m, T_x)), np.zeros((n_y, m, T_x)), []
    a_next = a0
    for t in range(T_x):
        a_next, y_pred[:, :, t], cache = rnn_cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t] = a_next
        caches.append(cache)
    return a, y_pred, (caches, x)


def rnn_backward(da, caches):
    caches, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    g = {"dx": np.zeros((n_x, m, T_x)), "dWax": np.zeros((n_a, n_x)), "dWaa": np.zeros((n_a, n_a)),
         "dba": np.zeros((n_a, 1))}
    da_prev = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        s = rnn_cell_backward(da[:, :, t] + da_prev, caches[t])
        g["dx"][:, :, t] = s["dxt"]
        da_prev = s["da_prev"]
        for k in ("dWax", "dWaa", "dba"):
            g[k] += s[k]
    g["da0"] = da_prev
    return g


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    p = parameters
    concat = np.concatenate([a_prev, xt], axis=0)
    ft = sigmoid(p["Wf"] @ concat + p["bf"])
    it = sigmoid(p["Wi"] @ concat + p["bi"])
    cct = np.tanh(p["Wc"] @ concat + p["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(p["Wo"] @ concat + p["bo"])
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, c_next, yt_pred, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
    n_a = a_next.shape[0]
    tc = np.tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tc ** 2)
    dot = da_next * tc * ot * (1 - ot)
    dcct = dc * it * (1 - cct ** 2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate([a_prev, xt], axis=0)
    g = {"dWf": dft @ concat.T, "dWi": dit @ concat.T, "dWc": dcct @ concat.T, "dWo": dot @ concat.T,
         "dbf": dft.sum(1, keepdims=True), "dbi": dit.sum(1, keepdims=True), "dbc": dcct.sum(1, keepdims=True),
         "dbo": dot.sum(1, keepdims=True)}
    dconcat = p["Wf"].T @ dft + p["Wi"].T @ dit + p["Wc"].T @ dcct + p["Wo"].T @ dot
    g["da_prev"], g["dxt"], g["dc_prev"] = dconcat[:n_a], dconcat[n_a:], dc * ft
    return g


def lstm_forward(x, a0, parameters):
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a, c, y = np.zeros((n_a, m, T_x)), np.zeros((n_a, m, T_x)), np.zeros((n_y, m, T_x))
    a_next, c_next, caches = a0, np.zeros((n_a, m)), []
    for t in range(T_x):
        a_next, c_next, y[:, :, t], cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t], c[:, :, t] = a_next, c_next
        caches.append(cache)
    return a, y, c, (caches, x)


def lstm_backward(da, caches):
    caches, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    g = {k: np.zeros((n_a, n_a + n_x)) for k in ("dWf", "dWi", "dWc", "dWo")}
    g.update({k: np.zeros((n_a, 1)) for k in ("dbf", "dbi", "dbc", "dbo")})
    g["dx"] = np.zeros((n_x, m, T_x))
    da_prev, dc_prev = np.zeros((n_a, m)), np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        s = lstm_cell_backward(da[:, :, t] + da_prev, dc_prev, caches[t])
        g["dx"][:, :, t] = s["dxt"]
        da_prev, dc_prev = s["da_prev"], s["dc_prev"]
        for k in ("dWf", "dWi", "dWc", "dWo", "dbf", "dbi", "dbc", "dbo"):
            g[k] += s[k]
    g["da0"] = da_prev
    return g
