"""Peiliao composition root and shared kernel.

The kernel modules (``settings``, ``clock``, ``errors``, ``logs``, ``telemetry``, ``http``) import
no domain package, so every domain may use them.  ``app`` and ``cli`` wire the domains together;
no domain imports them.
"""
