"""Domain errors. The service layer turns them into LRS faults or response codes."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidField(DomainError):
    """A learner field breaks a rule; answered as a WSEC0001 fault naming the field.

    `field` is the wire (element) name, e.g. ``DateOfBirth``, so FurtherDetails can name it
    exactly as the caller sent it.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"Field '{field}': {reason}")


class AbilityToShareRefused(DomainError):
    """AbilityToShare back to 0 once the privacy notice was seen (1 or 2): never allowed."""


class UlnSpaceExhausted(DomainError):
    """No fresh, valid ULN was found within the allowed attempts."""
