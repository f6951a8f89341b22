"""The contract's type index (lrs_ws.contract.type_index): what our XSD files declare."""
from __future__ import annotations

import pytest

from lrs_ws import contract
from lrs_ws.contract import xsd_types
from lrs_ws.contract.namespaces import BATCHMSG, FINDMSG, LEARNER, MIAP_MODEL, MS_ARRAYS, XS


def test_the_index_is_built_once():
    assert contract.type_index() is contract.type_index()


def test_global_elements_name_their_types():
    index = contract.type_index()
    assert index.elements[f"{{{FINDMSG}}}FindLearnerByULN"] == f"{{{FINDMSG}}}LearnerByULNRqst"
    assert index.elements[f"{{{LEARNER}}}LinkedULNs"] == f"{{{LEARNER}}}MIAPLinkedULN"


def test_children_come_in_order_with_groups_and_base_types_unfolded():
    index = contract.type_index()
    assert index.child_names(f"{{{FINDMSG}}}LearnerByULNRqst") == (
        "FindType", "OrganisationRef", "UKPRN", "OrgPassword", "UserName", "ULN", "FamilyName", "GivenName",
    )
    update = index.children[f"{{{LEARNER}}}LearnerToUpdate"]  # an extension of LearnerToRegister
    assert [c.name for c in update[-2:]] == ["ULN", "VersionNumber"]
    assert update[-1].type == f"{{{XS}}}int"


def test_children_say_how_often_they_occur_and_whether_they_may_be_nil():
    index = contract.type_index()
    learner = {c.name: c for c in index.children[f"{{{LEARNER}}}Learner"]}
    assert learner["GivenName"].mandatory and (learner["GivenName"].min_occurs, learner["GivenName"].max_occurs) == (1, 1)
    assert not learner["Title"].mandatory
    linked = learner["LinkedULNs"]  # a reference to a global element: qualified
    assert linked.tag == f"{{{LEARNER}}}LinkedULNs" and linked.type == f"{{{LEARNER}}}MIAPLinkedULN"
    (uln,) = index.children[f"{{{LEARNER}}}MIAPLinkedULN"]
    assert (uln.min_occurs, uln.max_occurs) == (0, None)  # unbounded
    (retrieve,) = index.children[f"{{{LEARNER}}}MIAPULNsToRetrieve"]
    assert (retrieve.min_occurs, retrieve.max_occurs) == (1, 200)
    r9 = {c.name: c for c in index.children[f"{{{MIAP_MODEL}}}Learner"]}
    assert r9["LinkedUlns"].nillable and r9["LinkedUlns"].type == f"{{{MS_ARRAYS}}}ArrayOfstring"
    assert not r9["Gender"].nillable


def test_an_element_of_its_own_type_has_children_too():
    index = contract.type_index()
    lrb = index.children_of_element(f"{{{BATCHMSG}}}LRBBatchFile")
    assert [c.name for c in lrb] == ["FileVersion", "FileName", "UKPRN", "LearnerRecordCount", "BatchLearner"]
    assert lrb[-1].tag == f"{{{BATCHMSG}}}BatchLearner" and lrb[-1].max_occurs is None
    assert index.children_of_element(f"{{{FINDMSG}}}FindLearnerByULN") == index.children[f"{{{FINDMSG}}}LearnerByULNRqst"]


def test_simple_types_carry_their_facets_and_first_sentence():
    simple = contract.type_index().simple
    uln = simple[f"{{{LEARNER}}}MIAPULN"]
    assert (uln.name, uln.builtin, uln.min_length, uln.max_length) == ("MIAPULN", "string", 10, 10)
    assert uln.patterns == (("[1-9][0-9]{9}",),)
    assert uln.doc == "Unique Learner Number: 10 digits, the first one not 0"
    post_code = simple[f"{{{LEARNER}}}MIAPPostCodeNillable"]
    assert len(post_code.patterns) == 1 and len(post_code.patterns[0]) == 3 and post_code.patterns[0][-1] == ""
    count = simple[f"{{{LEARNER}}}MIAPLearnerRecordCount"]
    assert (count.builtin, count.min_inclusive, count.max_inclusive) == ("int", "1", "200")
    assert count.facet_names == {"minInclusive", "maxInclusive"}
    assert simple[f"{{{BATCHMSG}}}LRBFileVersion"].enumeration == ("2A",)


DERIVED = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t">
  <xs:simpleType name="Code">
    <xs:annotation><xs:documentation>A code. Two letters.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string"><xs:maxLength value="5"/><xs:pattern value="[A-Z]+"/>
      <xs:enumeration value="AB"/><xs:enumeration value="CD"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="ShortCode">
    <xs:restriction base="t:Code"><xs:length value="2"/><xs:pattern value="A."/><xs:pattern value="C."/></xs:restriction>
  </xs:simpleType>
</xs:schema>
"""


def test_a_restriction_chain_is_folded_in(tmp_path, monkeypatch):
    (tmp_path / "t.xsd").write_text(DERIVED)
    monkeypatch.setattr(xsd_types, "schema_files", lambda: [tmp_path / "t.xsd"])
    short = xsd_types._Reader().index().simple["{urn:t}ShortCode"]
    assert (short.name, short.builtin, short.length, short.max_length) == ("ShortCode", "string", 2, 5)
    assert short.enumeration == ("AB", "CD")
    assert short.patterns == (("[A-Z]+",), ("A.", "C."))  # every step must hold; one pattern of each
    assert short.facet_names == {"maxLength", "pattern", "enumeration", "length"}
    assert short.doc == ""  # its own documentation only


@pytest.mark.parametrize("name", ["LearnerService.wsdl", "LearnerServiceR9.wsdl"])
def test_schema_files_are_the_xsd_folder(name):
    files = contract.schema_files()
    assert files == sorted(contract.XSD_DIR.glob("*.xsd")) and files
    assert contract.wsdl_path(name).is_file()
