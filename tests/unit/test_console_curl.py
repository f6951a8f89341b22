"""The console's "Copy as curl": the SOAPAction header as a client sends it, quoted once."""
from __future__ import annotations

import shlex

import pytest

from lrs_ws.console.xml_view import as_curl

ACTION = "http://tempuri.org/LearnerPortType/learnerByULN"


@pytest.mark.parametrize("kept", [f'"{ACTION}"', ACTION, f' "{ACTION}" '])
def test_the_soap_action_is_quoted_once_whether_it_was_kept_quoted_or_not(kept):
    command = shlex.split(as_curl("http://127.0.0.1:8000/LearnerService.svc", kept, "<a/>").splitlines()[0])
    assert [part for part in command if part.startswith("SOAPAction")] == [f'SOAPAction: "{ACTION}"']


def test_an_empty_soap_action_stays_empty_and_none_sends_no_header():
    assert "-H 'SOAPAction: \"\"'" in as_curl("http://h/L.svc", '""', "<a/>")
    assert "SOAPAction" not in as_curl("http://h/L.svc", None, "<a/>")
