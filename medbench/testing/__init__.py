"""Test helpers that ship with the package (stand-in servers usable from tests and benchmarks)."""
