"""Ingest: one module per source; each yields records, the runner upserts them in batches."""
