"""The stages every fetched page goes through, one module a stage, and what reads the archive."""
