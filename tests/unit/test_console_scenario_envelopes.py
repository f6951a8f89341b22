"""The Scenarios page's envelopes: one for every demo scenario, each valid against our message
schema (the screening would refuse it otherwise), carrying the scenario's values."""
from __future__ import annotations

import pytest
from lxml import etree

from lrs_ws.console.scenario_envelopes import LEARNER_SERVICE, R9_SERVICE, envelope_for
from lrs_ws.contract.namespaces import SOAP_ENV
from lrs_ws.contract.validation import violations
from lrs_ws.services.sandbox import scenario_catalogue
from lrs_ws.services.seed import load_demo_file

DEMO = load_demo_file()
CATALOGUE = scenario_catalogue(DEMO)


@pytest.mark.parametrize("scenario", CATALOGUE, ids=[f"{s['operation']}: {s['name']}" for s in CATALOGUE])
def test_every_scenario_has_a_valid_envelope(scenario):
    envelope = envelope_for(scenario["operation"], scenario["request"], DEMO["organisation"])
    assert envelope is not None
    body = etree.fromstring(envelope.xml.encode()).find(f"{{{SOAP_ENV}}}Body")[0]
    assert [str(v) for v in violations(body)] == []
    values = {element.text for element in body.iter() if isinstance(element.tag, str)}
    request = scenario["request"]
    assert set(request if isinstance(request, list) else filter(None, request.values())) <= values
    r9 = scenario["operation"] in ("LearnerByUln", "GetLearnerLearningEvents")
    assert envelope.endpoint == (R9_SERVICE if r9 else LEARNER_SERVICE)


def test_an_operation_without_a_form_of_ours_has_none():
    assert envelope_for("ViewAudit", {}, DEMO["organisation"]) is None


def test_values_are_escaped():
    envelope = envelope_for("learnerByULN", {"ULN": "9105106906", "GivenName": "A<b>&", "FamilyName": "O'Neil"}, DEMO["organisation"])
    assert "<GivenName>A&lt;b&gt;&amp;</GivenName>" in envelope.xml
