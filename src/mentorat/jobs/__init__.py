"""Work that outlives a request, as jobs on a PostgreSQL queue (procrastinate) run by workers.

Tasks and periodic tasks are declared in `mentorat.jobs.tasks`; `mentorat worker` (or the
worker inside `mentorat serve`) runs them.
"""
