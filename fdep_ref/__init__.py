"""fdep_ref: a compact PyTorch reference of the FDEP paradigm."""
