"""Pure funds rules: no I/O."""
