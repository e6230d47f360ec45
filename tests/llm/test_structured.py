"""Reading JSON answers back: fences, surrounding prose, schema and request-aware checks."""

import json

import pytest

from medbench.llm.outputs import AttributeQuestions, DiseaseDescriptions, RegionSpecificity
from medbench.llm.structured import OutputProblem, parse_output, response_format

QUESTIONS = ["Is it big?", "Is it round?", "Is it dense?"]


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"questions": QUESTIONS}),
        "```json\n" + json.dumps({"questions": QUESTIONS}) + "\n```",
        "Sure! Here they are:\n" + json.dumps({"questions": QUESTIONS}) + "\nHope it helps.",
    ],
)
def test_json_is_found_in_plain_text_answers(text):
    assert parse_output(text, AttributeQuestions, {}).questions == QUESTIONS


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no json here", "no JSON object"),
        ('{"questions": ["a?", "b?"', "no JSON object"),
        ('{"questions": ["a?", "b?"]}', "at least 3"),
        ('{"questions": ["a?", "A?", "b?"]}', "must differ"),
        ('{"questions": "a?"}', "valid list"),
    ],
)
def test_bad_answers_say_what_is_wrong(text, problem):
    with pytest.raises(OutputProblem, match=problem):
        parse_output(text, AttributeQuestions, {})


def test_description_count_is_checked_against_the_request():
    text = json.dumps({"descriptions": ["One.", "Two."]})
    assert len(parse_output(text, DiseaseDescriptions, {"count": 2}).descriptions) == 2
    with pytest.raises(OutputProblem, match="2 descriptions given, 3 asked for"):
        parse_output(text, DiseaseDescriptions, {"count": 3})


def test_regions_must_partition_the_given_list():
    regions = {"regions": ["right lung", "right lower lung zone"]}
    good = {"keep": ["right lower lung zone"], "discard": ["right lung"]}
    assert parse_output(json.dumps(good), RegionSpecificity, regions).keep == [
        "right lower lung zone"
    ]
    invented = {"keep": ["left lung"], "discard": ["right lung"]}
    with pytest.raises(OutputProblem, match="not in the list: left lung"):
        parse_output(json.dumps(invented), RegionSpecificity, regions)
    with pytest.raises(OutputProblem, match="left out: right lung"):
        parse_output(json.dumps({"keep": ["right lower lung zone"]}), RegionSpecificity, regions)


def test_response_format_carries_the_models_schema():
    fmt = response_format("attribute_questions")
    schema = fmt["json_schema"]["schema"]
    assert fmt["type"] == "json_schema"
    assert (
        schema["properties"]["questions"]["minItems"]
        == 3
        == schema["properties"]["questions"]["maxItems"]
    )
