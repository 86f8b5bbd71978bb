"""Trade-background documents: UBL 2.1 parsing (``ubl``), the internal model (``model``), EN 16931
arithmetic (``totals``) and the bundle verification rules (``rules``). See ``docs/documents.md``."""
