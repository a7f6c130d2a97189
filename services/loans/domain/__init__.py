"""Pure loans rules: no I/O."""
