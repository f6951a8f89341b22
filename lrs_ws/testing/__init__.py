"""Testing an MIS against lrs-ws: a pytest plugin (registered as `lrs_ws` through the `pytest11`
entry point; `pip install 'lrs-ws[testing]'`) with a sandbox server per test session.

    def test_find(lrs, lrs_client):
        answer = lrs_client.learnerByULN(FindType="FUL", **lrs.credentials, ULN="9105106906",
                                         FamilyName="Hughes", GivenName="Amelia")
        assert answer.ResponseCode == "WSRC0004"
        lrs.assert_called("learnerByULN", times=1)

See docs/testing-your-mis.md. Nothing heavy is imported until a fixture is used.
"""
from lrs_ws.testing.sandbox import LrsSandbox, SandboxOrganisation

__all__ = ["LrsSandbox", "SandboxOrganisation"]
