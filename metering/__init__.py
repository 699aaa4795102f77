"""Metering: rates, the billing clock, the double-entry ledger, holds and per-minute charges,
packages, coupons, commission, refunds, settlement and budget caps.

Pure rules: ``tariff`` (rates, bounds, levels, billed minutes), ``commission`` (the exact split),
``billing_clock`` (a session's billing as a state machine), ``postings`` (which ledger legs each
money movement writes).  The shell: ``ledger`` (posting transfers under the store's locks),
``service`` (sessions, wallets, refunds), ``payments/`` (providers), ``routes`` (HTTP).
"""
