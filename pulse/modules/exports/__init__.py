"""CSV exports of the reports: GET /api/v1/exports/{type}.

REST only: a CSV file is a download, and GraphQL clients already get every report's rows as
fields of `Project`, so this module adds no GraphQL field.
"""

from pulse.modules.exports import rest
from pulse.modules.module import Module

MODULE = Module("exports", router=rest.router)
