"""Performance-test harness for ContraVento-style FastAPI + PostgreSQL backends."""
