"""Screening a cohort: the streamed run and its workers, the CSV/JSON Lines/HTML outputs and the SQLite log."""
