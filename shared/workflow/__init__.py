"""A workflow engine with no business rules: templates as data, steps checked and recorded.

A template (``Template``) is ordered steps, each naming the roles allowed to take it, the region level it
acts at, the evidence it needs and whether it opens a public notice. ``engine`` decides whether a step may be
taken and what the progress becomes; ``store`` keeps templates (versioned per jurisdiction and effective date)
and the transitions of every instance in the caller's transaction.
"""
