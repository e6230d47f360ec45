"""medbench: medical visual-grounding datasets and benchmarks."""

__version__ = "0.1.0"
