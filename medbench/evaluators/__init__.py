"""Evaluation: metrics (pure functions on arrays) and the eval harness."""
