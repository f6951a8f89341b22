"""The names of LRB files: ``LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV`` or ``.XML`` (upper-case extension;
the rule of the portal's quick reference guide), and ``..._OUTPUT.CSV`` for a job's output."""
from __future__ import annotations

import os
import re
from datetime import datetime

from lrs_ws.adapters.lrb.layout import FORMATS, quote
from lrs_ws.domain.organisation import UKPRN_PATTERN, is_ukprn

_STAMP = r"(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{4}([01][0-9]|2[0-3])[0-5][0-9]"  # DDMMYYYYHHMM
_FILE_NAME = re.compile(rf"LRB_(?P<ukprn>{UKPRN_PATTERN})_(?P<stamp>{_STAMP})\.(?P<ext>CSV|XML)")
_LOOSE_NAME = re.compile(r"LRB_(?P<ukprn>[^_]*)_(?P<stamp>[^.]*)\.(?P<ext>[^.]*)", re.IGNORECASE)


def name_problems(name: str) -> tuple[list[str], str | None]:
    """Reasons the name breaks the LRB rule, and the UKPRN it names (None unless well formed)."""
    match = _FILE_NAME.fullmatch(name)
    if match:
        return [], match.group("ukprn")
    reasons: list[str] = []
    stem, dot, ext = name.rpartition(".")
    if dot and ext.upper() in FORMATS and ext != ext.upper():
        reasons.append(f"the extension must be upper case: .{ext.upper()}, not .{ext}")
        match = _FILE_NAME.fullmatch(f"{stem}.{ext.upper()}")
        if match:
            return reasons, match.group("ukprn")
    elif not (dot and ext in FORMATS):
        reasons.append("the name must end in .CSV or .XML")
    loose = _LOOSE_NAME.fullmatch(name)
    if loose and stem.startswith("LRB_"):
        if not is_ukprn(loose.group("ukprn")):
            reasons.append(f"the UKPRN in the name, {quote(loose.group('ukprn'))}, is not 8 letters or digits")
        if not re.fullmatch(_STAMP, loose.group("stamp")):
            reasons.append(f"{quote(loose.group('stamp'))} in the name is not a date and time written DDMMYYYYHHMM")
    else:
        reasons.append(f"{quote(name)} is not named LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV or .XML")
    return reasons, None


def file_name_for(ukprn: str, moment: datetime, fmt: str = "CSV") -> str:
    """The LRB name of a file of ``ukprn`` made at ``moment``: ``LRB_10000001_150920250930.CSV``."""
    name = f"LRB_{ukprn}_{moment:%d%m%Y%H%M}.{fmt.upper()}"
    if not _FILE_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid LRB file name")
    return name


def output_file_name(input_name: str) -> str:
    """``LRB_<UKPRN>_<DDMMYYYYHHMM>_OUTPUT.CSV`` (or ``.XML``) for a valid input file name."""
    name = os.path.basename(input_name)
    match = _FILE_NAME.fullmatch(name)
    if not match:
        raise ValueError(f"{name!r} is not an LRB file name (LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV or .XML)")
    return f"LRB_{match.group('ukprn')}_{match.group('stamp')}_OUTPUT.{match.group('ext')}"

