"""User roles (LRS user guide, Appendix A) and which operations each one may call."""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    SUPER_USER = "super_user"  # user management only
    BATCH_USER = "batch_user"  # submit and read batch jobs
    ONLINE_USER = "online_user"  # find, register, update
    VIEW_ONLY = "view_only"  # find only
    LEARNER_RECORD = "learner_record"  # read Personal Learning Records
    VLD_LEARNING_PROVIDER = "vld_learning_provider"  # verify learners' ULNs and details


class Operation(str, Enum):
    FIND = "find"
    REGISTER = "register"
    UPDATE = "update"
    BATCH = "batch"
    READ_PLR = "read_plr"
    VERIFY = "verify"
    LOOK_UP_ORGANISATION = "look_up_organisation"
    CONSOLE = "console"  # sign in to the web console (outside sandbox mode)


ALLOWED_ROLES: dict[Operation, frozenset[Role]] = {
    Operation.FIND: frozenset({Role.ONLINE_USER, Role.VIEW_ONLY}),
    Operation.REGISTER: frozenset({Role.ONLINE_USER}),
    Operation.UPDATE: frozenset({Role.ONLINE_USER}),
    Operation.BATCH: frozenset({Role.BATCH_USER}),
    Operation.READ_PLR: frozenset({Role.LEARNER_RECORD}),
    Operation.VERIFY: frozenset({Role.VLD_LEARNING_PROVIDER}),
    Operation.LOOK_UP_ORGANISATION: frozenset(Role),  # any user: it discloses no learner
    Operation.CONSOLE: frozenset({Role.SUPER_USER}),  # the organisation's administrator
}


def may(roles: frozenset[Role] | set[Role], operation: Operation) -> bool:
    """Roles combine: a user may call an operation when any of its roles allows it."""
    return bool(ALLOWED_ROLES[operation] & set(roles))


def parse_roles(text: str) -> frozenset[Role]:
    """`online_user,view_only` (or the values' hyphenated forms) to roles; ValueError names a bad one."""
    roles = set()
    for part in filter(None, (p.strip().lower().replace("-", "_") for p in text.split(","))):
        try:
            roles.add(Role(part))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {part!r}; known roles: {known}") from None
    return frozenset(roles)
