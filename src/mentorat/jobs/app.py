"""The procrastinate app of mentorat: its connector, queues and what a task may ask of it."""

from __future__ import annotations

from typing import Any

from procrastinate import App
from procrastinate.job_context import JobContext

from mentorat.jobs.connector import DatabaseConnector
from mentorat.kit.db import Database
from mentorat.settings import Settings

# Matching runs have a queue of their own, so that workers may be given to runs alone
# (`mentorat worker --queue matching`) or kept from them; everything else goes to `default`.
MATCHING_QUEUE = "matching"
DEFAULT_QUEUE = "default"
QUEUES = (MATCHING_QUEUE, DEFAULT_QUEUE)
# Task names are stored with each job: renaming one strands the jobs already queued under it.
RUN_TASK = "matching.run"
SWEEP_TASK = "jobs.sweep"

connector = DatabaseConnector()
jobs_app = App(connector=connector, import_paths=["mentorat.jobs.tasks"])


def database_of(context: JobContext) -> Database:
    """The Database the worker running this job was opened on."""
    database = getattr(context.app.connector, "database", None)
    if not isinstance(database, Database):
        raise RuntimeError("The jobs app is not open on a Database.")
    return database


def settings_of(context: JobContext) -> Settings:
    settings: Any = context.additional_context.get("settings")
    return settings if isinstance(settings, Settings) else Settings()
