"""The metric families' computations and the figures built from them."""
