"""Stages 1-2, reading: patient and rule files (YAML/JSON with positions), cohorts and FHIR R4 bundles,
validated into the model with one clear error per problem."""
