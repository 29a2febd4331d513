"""audit: the append-only, hash-chained ledger of every access to personal data, with signed checkpoints."""
