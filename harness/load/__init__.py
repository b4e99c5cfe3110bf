"""Distributed Locust runs: shapes, scenarios, and the master/worker runner."""
