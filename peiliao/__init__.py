"""Peiliao's composition root: ``app.create_app`` calls every package's ``setup()``, ``cli`` is
the ``peiliao`` command.  No package imports it."""
