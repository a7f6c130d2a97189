"""Fupin's shared library: settings, database, events, HTTP, auth, money, clock, IDs and masking.

It holds no business rules; those live in each service's ``domain`` package.
"""
