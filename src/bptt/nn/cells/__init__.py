"""The recurrent cells. Each module holds one cell: its step pair, forward and backward, side by side.

The contract a cell keeps, so that everything else (the loop over time in ``unroll.py``, the
network's stages in ``stages.py``, truncated and recomputing BPTT, gradcheck, training,
sampling, diagnostics, checkpoints, the explain page and the PyTorch bridge) is written once
for every cell:

``name``
    "rnn", "lstm", "gru": what checkpoints, ``--cell`` and the tests call it.
``gates`` (G)
    How many H-wide blocks its input and recurrent products have, stacked on the output axis
    in PyTorch's order: U (G*H, I), W (G*H, H), b (G*H,). The network computes b + U x(t) for
    all T at once before the loop (``xu``, (T, B, G*H)), and dU, dW, db as single products over
    all T*B rows after it, whatever the cell.
``states``
    The names of the state carried from step to step, "h" first: ("h",) or ("h", "s") (the LSTM
    cell state, which Goodfellow et al. 10.10.1 call s). h is what the readout and the next
    layer read. Every state is (B, H); the loop keeps each as (T+1, B, H), index 0 the initial one.
``keeps``
    ((name, width in H), ...): what each forward step stores for its backward step besides the
    states, each kept as (T, B, width*H): the RNN keeps its pre-activation "a"; the LSTM its
    gates and tanh(s(t)).
``errors``
    The per-step errors backward computes, each (T, B, G*H). The first is dL/da(t), the error at
    the pre-activations, which the input side uses (dU, db, and what goes down to the layer
    below); the last is what the recurrent side uses (dW = sum_t e(t)^T h(t-1), and
    W^T e(t) sent back to h(t-1)). A cell whose two coincide (RNN, LSTM) names one.
``extra_params(H)``, ``extra_grads(lp, states, keeps, errors, per_step=False)``
    {name: shape} of parameters besides U, W, b (the GRU's recurrent bias b_hn, the leaky cell's
    alpha_logit); usually {}; and their gradients (summed over T and B, or over B only per step)
    from the layer's parameters ``lp`` {"U", "W", "b", extras}, its trace (``states``, ``keeps``,
    as the forward loop left them) and its errors (``layer_backward``'s: the total error at each
    state, "h", ..., and the cell's ``errors``).

The step pair (row vectors: a batch of states is (B, H), so the book's W h(t-1) is h_prev @ W.T):

``step_forward(P, xu_t, *prev, *new, *keep)``
    Reads b + U x(t) (B, G*H) and the states before the step, writes the states after it and
    what it keeps, into the arrays given (views of the (T, ...) buffers: no allocation per step).
    ``P`` holds the layer's W, a C-contiguous W^T, and the extra parameters.
``backward_locals(states, keeps, errors, scratch=_scratch.fresh)``
    Everything backward needs that does not depend on the upstream error (f'(a), gate
    derivatives), for all T at once before the reverse loop: a tuple of (T, B, ...) arrays. It
    may use the buffers of ``errors``, which a step overwrites only after reading them, and
    takes any other array it writes from ``scratch(name, shape, dtype)`` (the training walk
    passes its Workspace's, so the arrays are reused from one update to the next: fresh
    (T, B, H) arrays would cost their page faults on every update). Temporaries the size of
    the inputs are avoided the same way: results are written with ``out=``.
``step_backward(P, *carry, dout_t, *dstate_t, *locals_t, *errors_t)``
    ``carry`` (one (B, H) array per state) holds on entry what step t+1 sent back to this step's
    states, and on exit what this step sends back to the states before it. ``dout_t`` (B, H) is
    what the readout or the layer above sends to h(t). The step writes the total error at each
    state into ``dstate_t`` and its errors into ``errors_t``. Every operation broadcasts over
    extra leading axes, so the diagnostics can push many chains through one step at once.
``adjust_init(params, H, rng)``
    Changes the initial parameters after the uniform draw (the LSTM's forget-gate bias), or not.
    ``rng`` is the Generator that drew them; a cell that draws more takes it from there.
``chrono`` (a field, only on a cell with a gate that sets how long its state is kept)
    None, or T_max, the longest lag the task asks for: ``adjust_init`` then draws that gate's
    bias as log(u), u ~ uniform[1, T_max - 1] (Tallec & Ollivier 2018; ``_chrono.py``): the
    LSTM's forget gate (and its input gate's bias -log(u)), the GRU's update gate z. The RNN
    has no such gate and no such field; ``CHRONO`` names the cells that have one.
``torch``, ``torch_options()``
    The PyTorch module's class name and constructor options, named as the module's attributes
    (``from_torch`` reads the options of a default cell back from a module's). ``torch = None``:
    torch.nn has no module for the cell (the leaky unit); ``to_torch`` and the export refuse it
    in one line, ``from_torch`` never produces it, and the tests check it against a module
    written in torch for them (``tests/torch_reference.py``, ``TORCH_MODULES``: its parameters
    named as nn.RNN's, weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k>, and each
    extra parameter as <name>_l<k>).
    ``from_torch_biases(b_ih, b_hh)``, ``to_torch_biases(params)`` and ``torch_bias_grads(g_ih,
    g_hh)`` map PyTorch's two biases (and their gradients) onto the cell's (b = b_ih + b_hh,
    except where the cell keeps one apart).
``page_terms(states, keeps, errors, local, Ux, Wh, b)``
    For the explain page (``bptt explain``), the terms of the cell's own equations, each
    (T, B, width): from one layer's trace (states, keeps), its errors (``layer_backward``'s),
    ``backward_locals``' arrays, U x(t) and W h(t-1) (T, B, G*H) and b. The page adds them up
    in its side panel (``explain/terms.py`` holds the terms every cell shares; a term of the
    next step uses ``from_next_step``). Only a cell the page has a view for
    (``explain.terms.VIEWS``, ``page/<name>.js``) is drawn; another cell may leave it out.
``step_jacobians(P, *prev, *new, *keep)``
    The partial Jacobians of one step, for the forward-in-time gradients (``rtrl.py``,
    ``uoro.py``, ``snap.py``), from the values ``step_forward`` wrote. A step reads the previous
    states, the input side b + U x(t) and the recurrent product W h(t-1); every cell here is
    *unit-wise* apart from that product: unit k's new states read unit k's previous states and
    the k-th entry of each gate block, nothing else. So each partial Jacobian is diagonal in the
    unit and is returned as its diagonals (S = len(states), E = len(errors)):

        D (B, S, S, H):    D[b, i, j, k] = d state_i(t)[k] / d state_j(t-1)[k], with W h(t-1)
                           held fixed (0 for the RNN; the LSTM's f and o (1 - tanh(s)^2) f; the GRU's z)
        A, one (B, S, G, H) array per name in ``errors``: A[e][b, i, g, k] = d state_i(t)[k] /
                           d q_e[g*H + k], q_e the quantity whose error is ``errors[e]``: the
                           pre-activation a(t) (input side), and for the GRU also
                           W h(t-1) + [0, 0, b_hn] (recurrent side)

    The whole Jacobian with respect to the previous states is then D plus A[-1] W on the h
    columns, and the step's parameter Jacobians are outer products: d state/dU = A[0] x(t)^T,
    d state/dW = A[-1] h(t-1)^T, d state/db = A[0]. ``step_backward``'s errors are the same
    maps applied to an error row: errors[e][:, g*H + k] = sum_i dL/dstate_i(t)[:, k] A[e][:, i, g, k]
    (tests/nn/test_rtrl.py checks both against central differences of ``step_forward``).
``extra_jacobians(A, P, *prev, *new, *keep)``
    {name: (B, S, m, H)} for each extra parameter: the step's own d state_i(t)[k] / d
    extra[j*H + k], given step_jacobians' A and the step's values (as ``step_jacobians`` takes
    them). Every extra parameter is per unit: shape (m*H,), entry j*H + k belonging to unit k,
    so this too is a diagonal. The GRU's b_hn enters where W_n h(t-1) does (A's recurrent-side n
    block); the leaky cell's alpha_logit through alpha itself, (g(t) - h(t-1)) alpha (1 - alpha),
    which no error row of a(t) carries: hence the step's values. RTRL, UORO and SnAp-1 read it.
``vanishing_bound(W)``
    A notion tied to one square W: the RNN returns gamma, the bound on |f'| in Pascanu et al.'s
    condition sigma_max(W) < 1/gamma, which the diagnostics and the radius sweep use; a gated
    cell returns None and the diagnostics report the bound as not applicable.

The compiled path (``pip install "bptt[fast]"``): the LSTM's and GRU's ``step_forward``,
``backward_locals`` and ``step_backward`` hand their elementwise work to numba-compiled loops in
a sibling module (``_fast_lstm.py``, ``_fast_gru.py``) when ``_kernels.fast(...)`` says so: numba
installed, not switched off (``BPTT_KERNELS=numpy``, ``_kernels.use("numpy")``), and plain (B, H)
arrays. The loops do NumPy's float operations in NumPy's order, so the two paths give the same
bits (tests/nn/test_kernels.py), and every proof runs on both (the ``kernels`` fixture). The
loop over time stays the one in ``unroll.py``; the NumPy code in the cell's module is the
reference. A new cell needs no compiled path.

Adding a cell: write ``cells/<name>.py`` with the above (its PyTorch mapping included), import
it below and add it to ``CELLS``, and add its name to ``CELLS`` in ``tests/cells.py`` (a cell
with ``torch = None`` also adds its torch module to the tests' ``TORCH_MODULES``). Nothing else
changes: ``Network.create("<name>", ...)`` builds a ``Network`` of it, ``--cell <name>`` trains
it (``bptt train``, ``bptt task``) with its options' defaults.
"""

from dataclasses import fields

from ._kernels import active as kernels
from ._page import from_next_step
from .gru import GRUCell
from .leaky import LeakyCell
from .lstm import LSTMCell
from .rnn import RNNCell

CELLS = {cls.name: cls for cls in (RNNCell, LSTMCell, GRUCell, LeakyCell)}
# the cells that offer the chrono initialisation: those with a ``chrono`` field
CHRONO = tuple(name for name, cls in CELLS.items() if "chrono" in {f.name for f in fields(cls)})

__all__ = ["CELLS", "CHRONO", "RNNCell", "LSTMCell", "GRUCell", "LeakyCell", "from_next_step", "kernels"]
