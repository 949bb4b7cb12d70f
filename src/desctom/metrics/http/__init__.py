"""Pages of the classification metrics."""
