"""One root error for everything the matcher reports to a user.

Errors keep their location as attributes (file, line, column, field path,
criterion id) so callers can act on them; ``str()`` renders the familiar
``file:line:column: field: message`` form the CLI prints.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MatcherError(Exception):
    """Root of every error the matcher raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        criterion: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.criterion = criterion
        #: further problems found in the same input (a patient file with three mistakes reports all three)
        self.also: list[MatcherError] = []

    def problems(self) -> list[str]:
        """This problem and every further one, each as ``str()`` renders it: one line each for the CLI."""
        return [str(self), *(str(other) for other in self.also)]

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        subject = ""
        if self.criterion:
            subject += f"criterion {self.criterion}: "
        if self.field:
            subject += f"{self.field}: "
        return f"{where}{subject}{self.message}"


class RuleFileError(MatcherError):
    """A rule file is malformed, names an unknown field or operator, or is inconsistent."""


class PatientFileError(MatcherError):
    """A patient file is malformed, has an unknown field, a wrong type or an impossible value."""


class EvaluationError(MatcherError):
    """The engine could not evaluate, or gave an answer that contradicts itself."""


class EngineUnavailableError(EvaluationError):
    """durable-rules cannot be imported; the matcher refuses to answer without it."""


#: names other systems use for a field, which no spelling distance finds (``gender`` for ``sex``)
_OTHER_NAMES = {"gender": "sex", "dob": "birth_date", "date_of_birth": "birth_date", "birthdate": "birth_date",
                "drugs": "medications", "meds": "medications", "laboratory": "labs"}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean ...?)' suffix, or '' when nothing is close."""
    choices = list(choices)
    meant = _OTHER_NAMES.get(word.strip().lower())
    if meant in choices:
        return f" (did you mean {meant!r}?)"
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


def one_line(message: str) -> str:
    """The message with newlines and other control characters escaped, so an error is always one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
