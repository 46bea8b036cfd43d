"""Stage 3, the rule language: parse a trial's YAML rule file, lint it, and compile it to durable-rules JSON."""
