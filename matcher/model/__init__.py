"""The patient model: the validated profile, units, dates, drugs, and the fields a rule may test.

Nothing here reads files or knows about rule files; every later stage builds on it.
"""
