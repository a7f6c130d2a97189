"""Pure identification rules: no I/O."""
