"""supervision: 双随机、一公开 market supervision engine.

Draws market entities and inspectors at random in a way anyone can recompute,
checks compliance records with a rules engine, and publishes results.
"""

__version__ = "0.1.0"
