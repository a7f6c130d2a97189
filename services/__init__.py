"""The five Fupin services."""
