"""Reference ContraVento backend: a FastAPI + SQLAlchemy service that honours the API contract."""
