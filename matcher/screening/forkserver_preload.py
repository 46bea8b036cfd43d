"""Imported only by the forkserver of a parallel screening, as it starts: it dies with the screening process
(see :mod:`matcher.screening.lifeline`)."""

from matcher.screening.lifeline import die_with_parent

die_with_parent()
