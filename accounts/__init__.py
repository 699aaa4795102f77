"""Accounts: sign-up and login by phone + SMS code, sessions, roles and profiles.

Pure rules (``phone``, ``sms_policy``, ``profile``, ``roles``) import no I/O; ``service`` runs them
against the store; ``routes`` is the HTTP adapter; ``sms`` holds the SMS-provider adapters.
"""
