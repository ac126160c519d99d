"""Benchmarks of autograd_lite against its peers: run ``python -m bench`` (see README.md)."""
