"""ingest: delivered source files (kept, checksummed), load runs, quarantine, and canonical source records."""
