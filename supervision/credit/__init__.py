"""信用监管: the registers, the proposals a reviewer decides, and credit class history.

One service layer for every door (CLI ``supervision credit``, the console, the JSON API,
the check run and imports): ``registers`` (listing and removal decisions), ``proposals``
(what findings and cures propose, the queue, deciding), ``classes`` (credit risk class
changes with their source, and what an import may change), ``cures`` (the check that
proposes removals), ``marks`` (targeted draws built from marks, proposals and entries).
"""
