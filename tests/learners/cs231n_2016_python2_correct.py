import numpy as np


"""
This file defines layer types that are commonly used for recurrent neural
networks. (A learner's finished copy of the 2016 template, Python 2 as it was then.)
"""

def rnn_step_forward(x, prev_h, Wx, Wh, b):
  """
  Run the forward pass for a single timestep of a vanilla RNN.
  """
  next_h, cache = None, None
  ##############################################################################
  # TODO: Implement a single forward step for the vanilla RNN.                 #
  ##############################################################################
  a = prev_h.dot(Wh) + x.dot(Wx) + b
  next_h = np.tanh(a)
  cache = (x, prev_h, Wx, Wh, next_h)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return next_h, cache


def rnn_step_backward(dnext_h, cache):
  dx, dprev_h, dWx, dWh, db = None, None, None, None, None
  x, prev_h, Wx, Wh, next_h = cache
  dtanh = (1 - next_h * next_h) * dnext_h
  dx = dtanh.dot(Wx.T)
  dprev_h = dtanh.dot(Wh.T)
  dWx = x.T.dot(dtanh)
  dWh = prev_h.T.dot(dtanh)
  db = np.sum(dtanh, axis=0)
  return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
  h, cache = None, None
  N, T, D = x.shape
  H = h0.shape[1]
  h = np.zeros((N, T, H))
  cache = []
  prev_h = h0
  for t in xrange(T):
    prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
    h[:, t, :] = prev_h
    cache.append(step_cache)
  return h, cache


def rnn_backward(dh, cache):
  dx, dh0, dWx, dWh, db = None, None, None, None, None
  N, T, H = dh.shape
  D = cache[0][0].shape[1]
  dx = np.zeros((N, T, D))
  dWx = np.zeros((D, H))
  dWh = np.zeros((H, H))
  db = np.zeros(H)
  dprev_h = np.zeros((N, H))
  for t in reversed(xrange(T)):
    dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
    dx[:, t, :] = dx_t
    dWx += dWx_t
    dWh += dWh_t
    db += db_t
  dh0 = dprev_h
  return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
  out, cache = None, None
  out = W[x, :]
  cache = (x, W)
  return out, cache


def word_embedding_backward(dout, cache):
  dW = None
  x, W = cache
  dW = np.zeros_like(W)
  np.add.at(dW, x, dout)
  return dW


def sigmoid(x):
  """
  A numerically stable version of the logistic sigmoid function.
  """
  pos_mask = (x >= 0)
  neg_mask = (x < 0)
  z = np.zeros_like(x)
  z[pos_mask] = np.exp(-x[pos_mask])
  z[neg_mask] = np.exp(x[neg_mask])
  top = np.ones_like(x)
  top[neg_mask] = z[neg_mask]
  return top / (1 + z)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
  next_h, next_c, cache = None, None, None
  H = prev_h.shape[1]
  a = x.dot(Wx) + prev_h.dot(Wh) + b
  i = sigmoid(a[:, :H])
  f = sigmoid(a[:, H:2*H])
  o = sigmoid(a[:, 2*H:3*H])
  g = np.tanh(a[:, 3*H:])
  next_c = f * prev_c + i * g
  next_h = o * np.tanh(next_c)
  cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
  return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
  x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
  tanh_c = np.tanh(next_c)
  dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
  di = dc * g * i * (1 - i)
  df = dc * prev_c * f * (1 - f)
  do = dnext_h * tanh_c * o * (1 - o)
  dg = dc * i * (1 - g ** 2)
  da = np.hstack((di, df, do, dg))
  dx = da.dot(Wx.T)
  dprev_h = da.dot(Wh.T)
  dprev_c = dc * f
  dWx = x.T.dot(da)
  dWh = prev_h.T.dot(da)
  db = da.sum(axis=0)
  return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
  N, T, D = x.shape
  H = h0.shape[1]
  h = np.zeros((N, T, H))
  cache = []
  prev_h, prev_c = h0, np.zeros_like(h0)
  for t in xrange(T):
    prev_h, prev_c, c = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
    h[:, t, :] = prev_h
    cache.append(c)
  return h, cache


def lstm_backward(dh, cache):
  N, T, H = dh.shape
  D = cache[0][0].shape[1]
  dx = np.zeros((N, T, D))
  dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
  dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
  for t in reversed(xrange(T)):
    dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t, :] + dprev_h, dprev_c, cache[t])
    dWx += dWx_t
    dWh += dWh_t
    db += db_t
  return dx, dprev_h, dWx, dWh, db


def temporal_affine_forward(x, w, b):
  N, T, D = x.shape
  M = b.shape[0]
  out = x.reshape(N * T, D).dot(w).reshape(N, T, M) + b
  cache = x, w, b, out
  return out, cache


def temporal_affine_backward(dout, cache):
  x, w, b, out = cache
  N, T, D = x.shape
  M = b.shape[0]
  dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
  dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
  db = dout.sum(axis=(0, 1))
  return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
  N, T, V = x.shape
  x_flat = x.reshape(N * T, V)
  y_flat = y.reshape(N * T)
  mask_flat = mask.reshape(N * T)
  probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
  probs /= np.sum(probs, axis=1, keepdims=True)
  loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
  dx_flat = probs.copy()
  dx_flat[np.arange(N * T), y_flat] -= 1
  dx_flat /= N
  dx_flat *= mask_flat[:, None]
  if verbose: print 'dx_flat: ', dx_flat.shape
  dx = dx_flat.reshape(N, T, V)
  return loss, dx
