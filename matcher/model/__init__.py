"""The patient model: the validated profile, units, dates, drugs, and the fields a rule may test (the field
catalogue, fields/fields.yaml, and the extraction built from it).

Nothing here reads files or knows about rule files; every later stage builds on it.
"""
