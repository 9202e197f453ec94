"""The embedding pair (nn/embedding.py) is the dense pair (nn/dense.py) on one-hot inputs, and its
backward is the gradient of its forward: central differences in float64, and a backward that
assigns instead of adding (a repeated token counted once) fails them."""

import numpy as np
import pytest

from bptt.nn.dense import dense_backward, dense_forward, dense_grads, dense_step_forward
from bptt.nn.embedding import (embedding_backward, embedding_backward_per_step, embedding_forward,
                               embedding_table, scatter_rows)


def problem(n=6, n_out=5, T=4, B=3, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n, size=(T, B))
    ids[1, 0] = ids[0, 0] = ids[2, 2]                       # a token repeated: its column sums them
    return ids, rng.normal(size=(n_out, n)), rng.normal(size=n_out), rng.normal(size=(T, B, n_out))


def onehot(ids, n):
    return (ids[..., None] == np.arange(n)).astype(np.float64)


@pytest.mark.parametrize("n", [6, 40])                       # more ids than tokens, and fewer
def test_forward_is_the_dense_layer_on_one_hot_inputs(n):
    ids, M, v, _ = problem(n=n, seed=n)
    out = embedding_forward(ids, M, v)
    assert out.shape == (4, 3, 5)
    np.testing.assert_allclose(out, dense_forward(onehot(ids, n), M, v), rtol=1e-13, atol=1e-13)
    # the gather of columns (fewer ids than tokens) and the table of M^T + v give the same bits
    np.testing.assert_array_equal(embedding_forward(ids[:1, :1], M, v), out[:1, :1])
    # row i of the table is M x + v for x one-hot at i, to the bit: what one step of generation reads
    table = embedding_table(M, v)
    assert table.shape == (n, 5) and table.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(table[ids], out)
    buffer = np.empty_like(out)
    assert embedding_forward(ids, M, v, out=buffer) is buffer and np.array_equal(buffer, out)


def central_differences(f, theta, eps=1e-6):
    grad = np.zeros_like(theta)
    flat, g = theta.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        g[i] = (plus - minus) / (2 * eps)
    return grad


def test_backward_is_the_gradient_of_forward_by_central_differences():
    ids, M, v, R = problem()
    loss = lambda: float(np.sum(R * embedding_forward(ids, M, v)))          # dL/dout = R
    dM, dv = embedding_backward(R, ids, M.shape[1])
    np.testing.assert_allclose(dM, central_differences(loss, M), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(dv, central_differences(loss, v), rtol=1e-8, atol=1e-8)
    # the classic mistake, dM[:, ids] = dout (assigned, not added), fails the same check
    assigned = np.zeros_like(M)
    assigned[:, ids.ravel()] = R.reshape(-1, R.shape[-1]).T
    assert not np.allclose(assigned, central_differences(loss, M), rtol=1e-4, atol=1e-4)


def test_backward_is_the_dense_backward_on_one_hot_inputs_and_per_step_sums_to_it():
    ids, M, v, R = problem(seed=3)
    dM, dv = embedding_backward(R, ids, M.shape[1])
    _, dM_dense, dv_dense = dense_backward(R, onehot(ids, M.shape[1]), M)
    np.testing.assert_allclose(dM, dM_dense, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(dv, dv_dense, rtol=1e-13)
    dM_t, dv_t = embedding_backward_per_step(R, ids, M.shape[1])
    assert dM_t.shape == (4, *M.shape) and dv_t.shape == (4, 5)
    np.testing.assert_allclose(dM_t.sum(axis=0), dM, rtol=1e-13, atol=1e-13)
    for t in range(4):
        np.testing.assert_allclose(dM_t[t], embedding_backward(R[t:t + 1], ids[t:t + 1], M.shape[1])[0],
                                   rtol=1e-13, atol=1e-13)


def test_dense_grads_and_one_step_forward_are_the_dense_pairs():
    rng = np.random.default_rng(1)
    x, M, v, dout = rng.normal(size=(4, 3, 6)), rng.normal(size=(5, 6)), rng.normal(size=5), rng.normal(size=(4, 3, 5))
    dx, dM, dv = dense_backward(dout, x, M)
    gM, gv = dense_grads(dout, x)
    np.testing.assert_array_equal(gM, dM)
    np.testing.assert_array_equal(gv, dv)
    np.testing.assert_allclose(dense_step_forward(x[0], M, v), dense_forward(x, M, v)[0], rtol=1e-13)


@pytest.mark.parametrize("n", [5, 256, 257, 3000])
def test_scatter_rows_is_the_one_hot_product(n):
    rng = np.random.default_rng(n)
    ids = rng.integers(0, n, size=500)
    rows = rng.normal(size=(500, 7))
    expected = np.zeros((n, 7))
    np.add.at(expected, ids, rows)
    np.testing.assert_allclose(scatter_rows(ids, rows, n), expected, rtol=1e-12, atol=1e-12)
