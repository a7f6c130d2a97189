"""Registry tests: pure rules, then the API on SQLite and PostgreSQL."""
