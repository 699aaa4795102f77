"""A person's own data: export it, or delete the account (the ledger keeps its entries, no
longer linked to anyone)."""
