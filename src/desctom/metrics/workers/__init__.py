"""update_metrics: recomputes the metric families."""
