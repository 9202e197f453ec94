#!/usr/bin/env python
# coding: utf-8

# # Building your Recurrent Neural Network - Step by Step
#
# (Downloaded as .py from the notebook, midway: the RNN forward done, the LSTM cell not started.)



# ## Packages

# In[1]:


import numpy as np
from rnn_utils import *
from public_tests import *


# In[2]:


get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().run_line_magic('load_ext', 'autoreload')
get_ipython().run_line_magic('autoreload', '2')


# In[3]:


# UNQ_C1 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# GRADED FUNCTION: rnn_cell_forward

def rnn_cell_forward(xt, a_prev, parameters):
    """
    One step of the basic RNN cell.
    xt (n_x, m), a_prev (n_a, m); parameters: Wax, Waa, Wya, ba, by.
    Returns a_next (n_a, m), yt_pred (n_y, m), cache.
    """
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    Wya = parameters["Wya"]
    ba = parameters["ba"]
    by = parameters["by"]

    ### START CODE HERE ### (~2 lines)
    a_next = np.tanh(np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    ### END CODE HERE ###

    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


# In[4]:


np.random.seed(1)
xt_tmp = np.random.randn(3, 10)
a_prev_tmp = np.random.randn(5, 10)
parameters_tmp = {}
parameters_tmp['Waa'] = np.random.randn(5, 5)
parameters_tmp['Wax'] = np.random.randn(5, 3)
parameters_tmp['Wya'] = np.random.randn(2, 5)
parameters_tmp['ba'] = np.random.randn(5, 1)
parameters_tmp['by'] = np.random.randn(2, 1)

a_next_tmp, yt_pred_tmp, cache_tmp = rnn_cell_forward(xt_tmp, a_prev_tmp, parameters_tmp)
print("a_next.shape = \n", a_next_tmp.shape)
print("yt_pred.shape = \n", yt_pred_tmp.shape)

# UNIT TESTS
rnn_cell_forward_tests(rnn_cell_forward)


# In[5]:


# UNQ_C2 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# GRADED FUNCTION: rnn_forward

def rnn_forward(x, a0, parameters):
    """
    x (n_x, m, T_x), a0 (n_a, m). Returns a (n_a, m, T_x), y_pred (n_y, m, T_x), caches.
    """
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape

    ### START CODE HERE ###
    a = np.zeros((n_a, m, T_x))
    y_pred = np.zeros((n_y, m, T_x))
    a_next = a0
    for t in range(T_x):
        xt = x[:, :, t]
        a_next, yt_pred, cache = rnn_cell_forward(xt, a_next, parameters)
        a[:, :, t] = a_next
        y_pred[:, :, t] = yt_pred
        caches.append(cache)
    ### END CODE HERE ###

    caches = (caches, x)
    return a, y_pred, caches


# In[6]:


np.random.seed(1)
x_tmp = np.random.randn(3, 10, 4)
a0_tmp = np.random.randn(5, 10)
parameters_tmp = {'Waa': np.random.randn(5, 5), 'Wax': np.random.randn(5, 3), 'Wya': np.random.randn(2, 5),
                  'ba': np.random.randn(5, 1), 'by': np.random.randn(2, 1)}
a_tmp, y_pred_tmp, caches_tmp = rnn_forward(x_tmp, a0_tmp, parameters_tmp)
print("a.shape = \n", a_tmp.shape)

#UNIT TEST
rnn_forward_test(rnn_forward)


# In[7]:


# UNQ_C3 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# GRADED FUNCTION: lstm_cell_forward

def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """
    One LSTM step. xt (n_x, m), a_prev, c_prev (n_a, m); Wf, Wi, Wc, Wo (n_a, n_a + n_x) act on [a_prev; xt].
    Returns a_next, c_next, yt_pred, cache.
    """
    Wf = parameters["Wf"]; bf = parameters["bf"]
    Wi = parameters["Wi"]; bi = parameters["bi"]
    Wc = parameters["Wc"]; bc = parameters["bc"]
    Wo = parameters["Wo"]; bo = parameters["bo"]
    Wy = parameters["Wy"]; by = parameters["by"]

    # Retrieve dimensions from shapes of xt and Wy
    n_x, m = None
    n_y, n_a = None

    ### START CODE HERE ###
    concat = None
    ft = None
    it = None
    cct = None
    c_next = None
    ot = None
    a_next = None
    yt_pred = None
    ### END CODE HERE ###

    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


# In[8]:


np.random.seed(1)
xt_tmp = np.random.randn(3, 10)
a_prev_tmp = np.random.randn(5, 10)
c_prev_tmp = np.random.randn(5, 10)
parameters_tmp = {k: np.random.randn(5, 5 + 3) for k in ('Wf', 'Wi', 'Wo', 'Wc')}
parameters_tmp.update({k: np.random.randn(5, 1) for k in ('bf', 'bi', 'bo', 'bc')})
parameters_tmp['Wy'] = np.random.randn(2, 5)
parameters_tmp['by'] = np.random.randn(2, 1)
a_next_tmp, c_next_tmp, yt_tmp, cache_tmp = lstm_cell_forward(xt_tmp, a_prev_tmp, c_prev_tmp, parameters_tmp)
print("a_next.shape = ", a_next_tmp.shape)

# UNIT TEST
lstm_cell_forward_test(lstm_cell_forward)


# In[9]:


def rnn_cell_backward(da_next, cache):
    """
    Backward pass of one RNN cell. da_next (n_a, m); cache from rnn_cell_forward.
    Returns gradients: dxt, da_prev, dWax, dWaa, dba.
    """
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]

    ### START CODE HERE ###
    dtanh = (1 - a_next ** 2) * da_next
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa.T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    ### END CODE HERE ###

    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


# In[ ]:


def rnn_backward(da, caches):
    """
    da (n_a, m, T_x): the upstream gradient of every hidden state; caches from rnn_forward.
    Returns gradients: dx, da0, dWax, dWaa, dba.
    """
    ### START CODE HERE ###
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dxt, da_prevt = gradients["dxt"], gradients["da_prev"]
        dx[:, :, t] = dxt
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
    da0 = da_prevt
    ### END CODE HERE ###

    gradients = {"dx": dx, "da0": da0, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients
