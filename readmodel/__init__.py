"""The read model: chain events projected into SQL tables, the indexer that writes them, reconciliation."""
