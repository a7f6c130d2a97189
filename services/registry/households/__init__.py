"""Households (户): registration, reads now and as of a day, versioned edits, search."""
