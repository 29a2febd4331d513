"""Test support: where the real PostgreSQL and Kafka are, fresh databases, in-memory span capture."""
