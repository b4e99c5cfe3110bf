"""Locust scenarios run inside the load-generator image (locust and the standard library only)."""
