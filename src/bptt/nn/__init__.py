"""The network and its back-propagation through time, by level: activations and losses; the dense
and embedding pairs (stages 1 and 3 for vectors and for token ids); ``cells/`` (one step pair per
cell); ``unroll`` (the loop over time, stage 2); ``stages`` (the three stages as functions, for a
layer and for a stack, forward and backward, and one step at a time); ``network`` (the Network
class that holds the parameters and puts the stages together); ``truncated`` and ``recompute``
(BPTT over long streams, and in bounded memory); ``online`` (the forward-in-time walk) and
``rtrl``, ``uoro``, ``snap`` (real-time recurrent learning, exact and approximate, beside BPTT)."""
