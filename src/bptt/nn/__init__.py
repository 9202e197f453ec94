"""The network and its back-propagation through time, by level: activations and losses; the dense
and embedding pairs (stages 1 and 3); ``cells/`` (one step pair per cell); ``unroll`` (the loop
over time, stage 2); ``network`` (the three stages put together, stacks); ``truncated`` and
``recompute`` (BPTT over long streams, and in bounded memory); ``online`` (the forward-in-time walk)
and ``rtrl``, ``uoro``, ``snap`` (real-time recurrent learning, exact and approximate, beside BPTT)."""
