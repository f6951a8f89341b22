"""The LRS domain: learners, ULNs, matching and rules. Pure Python: no SOAP, no SQL."""
