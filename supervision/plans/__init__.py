"""Yearly plans (年度抽查计划): contents from a plan file (``spec``), publication and the
coverage report (``service``, the database edge), and the coverage arithmetic
(``coverage``, pure)."""
