"""The pure core: documents, rules, identity, roles and maths. No FastAPI, no database, no web3."""
