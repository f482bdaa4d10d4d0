"""The scheduler: plans that commit, draw, check, watch deadlines and publish on time.

- ``config``: the TOML configuration (recurring jobs, graces, lease timings).
- ``schedules``: per-task schedules (commit time, public draw time, seed deadline, source).
- ``seeds``: seed sources (manual entry now; a randomness beacon later) and entry rules.
- ``runs``: idempotency keys (job, period) claimed in the same transaction as the work.
- ``lease``: the single-scheduler lease with stale-lease takeover.
- ``alerts``: bilingual alerts, one open per (kind, object).
- ``decisions``: the scheduled draw's decision table (pure).
- ``task_alerts``: the alert texts of the commit and draw jobs.
- ``jobs``: the job functions APScheduler stores by import path (never rename them).
- ``service``: the BlockingScheduler with its job store in the project database.
"""
