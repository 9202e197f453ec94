"""What proves the hand-written gradients: float64 central differences (``gradcheck``), random
problems to run them on (``random_cases``), and the bridge to PyTorch autograd (``torch_bridge``)."""
