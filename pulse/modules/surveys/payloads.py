"""Surveys' payload type: survey_response.

  survey_response  SurveyResponseData. Required `survey_id` (a UUID, stored canonical);
                   `answers` 1..100 of {"question_id", "value"} with distinct question ids and
                   a value that is a string, number, boolean or list of those;
                   `completed` boolean, default false.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import msgspec

from pulse.ingest.fields import SAFE_INT, Invalid, boolean, ident, missing, must, req_list, req_str
from pulse.ingest.sinks import Copy, json_text
from pulse.modules.module import Payload

MAX_SURVEY_ANSWERS: Final = 100

AnswerScalar = str | int | float | bool


class SurveyAnswer(msgspec.Struct):
    question_id: str
    value: AnswerScalar | list[AnswerScalar]


class SurveyResponseData(msgspec.Struct, tag="survey_response", tag_field="kind"):
    survey_id: str
    answers: list[SurveyAnswer]
    completed: bool = False


def _answer_scalar(v: Any, key: str) -> AnswerScalar:
    t = type(v)
    if t is str:
        if len(v) > 4000:
            raise must(key, "at most 4000 characters")
        return v
    if t is bool or t is float:
        return v
    if t is int:
        if not -SAFE_INT <= v <= SAFE_INT:
            raise must(key, f"between {-SAFE_INT} and {SAFE_INT}")
        return v
    raise must(key, "a string, number, boolean or list of those")


def parse_survey_response(d: dict[str, Any]) -> SurveyResponseData:
    sid = req_str(d, "survey_id", 4000)
    try:
        if len(sid) > 45:
            raise ValueError
        sid = str(uuid.UUID(sid))
    except ValueError:
        raise must("survey_id", "a UUID") from None
    answers = req_list(d, "answers", MAX_SURVEY_ANSWERS, "answers")
    out: list[SurveyAnswer] = []
    seen: set[str] = set()
    for i, a in enumerate(answers):
        where = f"answers[{i}]"
        if type(a) is not dict:
            raise must(where, "an object")
        qid = a.get("question_id")
        if qid is None or (qid := ident(qid, where + ".question_id")) is None:
            raise missing(where + ".question_id")
        if qid in seen:
            raise Invalid(f"field 'answers' has more than one answer to question '{qid}'.")
        seen.add(qid)
        value = a.get("value")
        if value is None:
            raise missing(where + ".value")
        if type(value) is list:
            if len(value) > 100:
                raise must(where + ".value", "a list of at most 100 items")
            value = [_answer_scalar(x, f"{where}.value[{j}]") for j, x in enumerate(value)]
        else:
            value = _answer_scalar(value, where + ".value")
        out.append(SurveyAnswer(qid, value))
    return SurveyResponseData(sid, out, boolean(d, "completed", False))


SURVEY_RESPONSES = Copy("survey_responses", ("survey_id", "answers", "completed"),
                        lambda r, _: (uuid.UUID(r.data.survey_id), json_text(r.data.answers), r.data.completed))

PAYLOADS = (Payload("survey_response", parse_survey_response, SurveyResponseData, sink=SURVEY_RESPONSES),)
