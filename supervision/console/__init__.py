"""The regulators' web console: pages, JSON API, users and roles.

Start it with ``supervision serve`` (the public site is mounted beside it) or build it
with ``supervision.console.app.create_app(db)``.
"""
