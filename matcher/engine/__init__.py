"""Stage 4, deciding: the durable-rules adapter (the only module that imports the engine) and the
evaluation of a profile against a compiled trial."""
