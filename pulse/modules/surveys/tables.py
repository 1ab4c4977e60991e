"""Surveys' collected table: one row per response."""

from __future__ import annotations

from sqlalchemy import Boolean, Column
from sqlalchemy.dialects.postgresql import JSONB, UUID

from pulse.ingest.tables import collected

survey_responses = collected(
    "survey_responses",
    Column("survey_id", UUID, nullable=False), Column("answers", JSONB, nullable=False),
    Column("completed", Boolean, nullable=False),
)

TABLES = (survey_responses,)
