import numpy as np

# A 2016 copy with a Python 2 raise statement: not a mechanical conversion, so refused.


def _check(x, D):
  if x.shape[-1] != D:
    raise ValueError, 'expected %d input features, got %d' % (D, x.shape[-1])


def rnn_step_forward(x, prev_h, Wx, Wh, b):
  _check(x, Wx.shape[0])
  next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
  return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_forward(x, h0, Wx, Wh, b):
  N, T, D = x.shape
  h, cache, prev_h = np.zeros((N, T, h0.shape[1])), [], h0
  for t in xrange(T):
    prev_h, c = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
    h[:, t, :] = prev_h
    cache.append(c)
  print 'rnn_forward done'
  return h, cache
