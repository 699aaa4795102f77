"""Peiliao's composition root: ``app.create_app`` wires every package, ``cli`` is the ``peiliao``
command.  No package imports it."""
