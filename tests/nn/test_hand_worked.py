"""One case small enough to do by hand: T=2, B=1, I=H=O=2, linear f, identity output.

    U = [[1, 0],   W = [[0, 0],   V = [[1, 1],   b = c = 0,  h(0) = 0
         [0, 1]]        [1, 0]]        [0, 1]]
    x(1) = [1, 0], x(2) = [0, 1];  y(1) = [0, 0], y(2) = [1, 1]

Forward (10.8-10.10, f = identity):
    a(1) = W h(0) + U x(1) = [1, 0]             h(1) = [1, 0]
    a(2) = W h(1) + U x(2) = [0, 1] + [0, 1]    h(2) = [0, 2]
    o(1) = V h(1) = [1, 0]                      o(2) = V h(2) = [2, 2]
    L(1) = 1/2 ||[1, 0] - [0, 0]||^2 = 0.5      L(2) = 1/2 ||[2, 2] - [1, 1]||^2 = 1.0
    L = 1.5
Backward:
    dL/do(1) = o(1) - y(1) = [1, 0]             dL/do(2) = [1, 1]
    dL/dh(2) = V^T dL/do(2) = [1, 2]            dL/da(2) = [1, 2]       (f' = 1)
    dL/dh(1) = V^T dL/do(1) + W^T dL/da(2) = [1, 1] + [2, 0] = [3, 1]   dL/da(1) = [3, 1]
    dL/dh(0) = W^T dL/da(1) = [1, 0]
Gradients, each the sum of two per-step contributions:
    dc = [1, 0] + [1, 1] = [2, 1]
    dV = [1,0]^T[1,0] + [1,1]^T[0,2] = [[1, 0], [0, 0]] + [[0, 2], [0, 2]] = [[1, 2], [0, 2]]
    db = [3, 1] + [1, 2] = [4, 3]
    dW = [3,1]^T h(0) + [1,2]^T [1,0] = 0 + [[1, 0], [2, 0]]
    dU = [3,1]^T[1,0] + [1,2]^T[0,1] = [[3, 0], [1, 0]] + [[0, 1], [0, 2]] = [[3, 1], [1, 2]]
"""

import numpy as np
import pytest

from bptt import SimpleRNN


def hand_model():
    model = SimpleRNN(2, 2, 2, nonlinearity="linear", output="identity")
    model.set_params({"U": np.eye(2), "W": np.array([[0.0, 0.0], [1.0, 0.0]]), "b": np.zeros(2),
                      "V": np.array([[1.0, 1.0], [0.0, 1.0]]), "c": np.zeros(2)})
    return model


Y = np.array([[[0.0, 0.0]], [[1.0, 1.0]]])                # (T=2, B=1, O=2)


@pytest.mark.parametrize("x", [np.array([[[1.0, 0.0]], [[0.0, 1.0]]]),   # real vectors (T, B, I)
                               np.array([[0], [1]])])                     # the same as token ids
def test_hand_worked_case(x):
    model = hand_model()
    trace = model.forward(x)
    np.testing.assert_array_equal(trace.a[:, 0], [[1, 0], [0, 2]])
    np.testing.assert_array_equal(trace.h[:, 0], [[1, 0], [0, 2]])
    np.testing.assert_array_equal(trace.o[:, 0], [[1, 0], [2, 2]])
    r = model.backward(trace, Y, per_step=True)
    assert r.loss == 1.5
    np.testing.assert_array_equal(r.losses[:, 0], [0.5, 1.0])
    np.testing.assert_array_equal(r.errors["o"][:, 0], [[1, 0], [1, 1]])
    np.testing.assert_array_equal(r.errors["h"][:, 0], [[3, 1], [1, 2]])
    np.testing.assert_array_equal(r.errors["a"][:, 0], [[3, 1], [1, 2]])
    np.testing.assert_array_equal(r.dh0[0], [1, 0])
    np.testing.assert_array_equal(r.grads["c"], [2, 1])
    np.testing.assert_array_equal(r.grads["V"], [[1, 2], [0, 2]])
    np.testing.assert_array_equal(r.grads["b"], [4, 3])
    np.testing.assert_array_equal(r.grads["W"], [[1, 0], [2, 0]])
    np.testing.assert_array_equal(r.grads["U"], [[3, 1], [1, 2]])
    np.testing.assert_array_equal(r.per_step["U"], [[[3, 0], [1, 0]], [[0, 1], [0, 2]]])
    np.testing.assert_array_equal(r.per_step["W"], [[[0, 0], [0, 0]], [[1, 0], [2, 0]]])
    np.testing.assert_array_equal(r.per_step["V"], [[[1, 0], [0, 0]], [[0, 2], [0, 2]]])
    np.testing.assert_array_equal(r.per_step["b"], [[3, 1], [1, 2]])
    np.testing.assert_array_equal(r.per_step["c"], [[1, 0], [1, 1]])


def test_many_to_one_mask_keeps_only_the_last_loss():
    model = hand_model()
    r = model.gradients(np.array([[0], [1]]), Y, mask=np.array([[0], [1]]))
    assert r.loss == 1.0                                   # L(2) alone
    np.testing.assert_array_equal(r.errors["o"][:, 0], [[0, 0], [1, 1]])
    np.testing.assert_array_equal(r.errors["h"][:, 0], [[2, 0], [1, 2]])   # W^T [1, 2] only
