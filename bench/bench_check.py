"""How fast `lrs-ws check` gets through a pipeline's messages, against the floor of merely reading
and parsing the same files.

    python bench/bench_check.py [--messages 10000] [--rounds 5]

Writes N small messages (requests and answers of the Learner Register: finds, registrations,
batches; some one in a hundred broken), then times, interleaved round by round, `lrs-ws check DIR` (a new
process: start-up, schemas, the rules) and the baseline: a new process that parses every file
with lxml and does nothing else. Prints each one's median and range and the ratio check/baseline.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENVELOPE = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}</s:Body></s:Envelope>'
CREDENTIALS = "<UKPRN>10000001</UKPRN><OrgPassword>DemoPassword0001</OrgPassword><UserName>online</UserName>"
LEARNER = ("<GivenName>Ada{n}</GivenName><FamilyName>Quill</FamilyName><LastKnownPostCode>LS1 4AP</LastKnownPostCode>"
           "<DateOfBirth>2005-0{m}-1{d}</DateOfBirth><Gender>2</Gender>")
KINDS = [
    lambda n, m, d: ENVELOPE.format(
        '<f:FindLearnerByULN xmlns:f="http://api.lrs.miap.gov.uk/findmsg"><FindType>FUL</FindType>'
        f"{CREDENTIALS}<ULN>91051069{n % 100:02d}</ULN><FamilyName>Hughes</FamilyName><GivenName>Amelia</GivenName>"
        "</f:FindLearnerByULN>"),
    lambda n, m, d: ENVELOPE.format(
        f'<r:RegisterLearner xmlns:r="http://api.lrs.miap.gov.uk/regmsg">{CREDENTIALS}<Learner>'
        f"{LEARNER.format(n=n, m=m, d=d)}<AbilityToShare>1</AbilityToShare></Learner></r:RegisterLearner>"),
    lambda n, m, d: ENVELOPE.format(
        f'<b:SubmitBatch xmlns:b="http://api.lrs.miap.gov.uk/batchmsg">{CREDENTIALS}<JobType>FUL</JobType>'
        f"<LearnerRecordCount>2</LearnerRecordCount><Learner>{LEARNER.format(n=n, m=m, d=d)}</Learner>"
        f"<Learner>{LEARNER.format(n=n + 1, m=m, d=d)}</Learner></b:SubmitBatch>"),
    lambda n, m, d: ENVELOPE.format(
        '<f:FindLearnerResponse xmlns:f="http://api.lrs.miap.gov.uk/findmsg"><ResponseCode>WSRC0001</ResponseCode>'
        f"<ULN>91051069{n % 100:02d}</ULN><FamilyName>Hughes</FamilyName><GivenName>Amelia</GivenName></f:FindLearnerResponse>"),
]

PARSE_ONLY = """
import sys
from pathlib import Path
from lxml import etree
for path in sorted(Path(sys.argv[1]).glob("*.xml")):
    etree.fromstring(path.read_bytes())
"""


def write_messages(folder: Path, count: int) -> int:
    broken = 0
    for n in range(count):
        text = KINDS[n % len(KINDS)](n, 1 + n % 9, n % 10)
        if n % 50 == 49:  # a FindType no operation has, a date no calendar has
            spoilt = re.sub(r"<DateOfBirth>[^<]*", "<DateOfBirth>2005-02-30", text.replace("<FindType>FUL", "<FindType>ALL"))
            broken += spoilt != text
            text = spoilt
        (folder / f"{n:06d}.xml").write_text(text)
    return broken


def timed(command: list[str], expect: int) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != expect:
        sys.exit(f"{' '.join(command[:3])} exited {done.returncode}, not {expect}:\n{done.stdout[-800:]}{done.stderr[-800:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        broken = write_messages(folder, options.messages)
        check = [sys.executable, "-m", "lrs_ws", "check", str(folder)]
        baseline = [sys.executable, "-c", PARSE_ONLY, str(folder)]
        problems = subprocess.run(check, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        print(f"{options.messages:,} messages, {broken} of them broken; lrs-ws check says: {problems}")
        checks, floors = [], []
        for _ in range(options.rounds):  # interleaved: the machine's noise falls on both alike
            floors.append(timed(baseline, 0))
            checks.append(timed(check, 1 if broken else 0))
    ratios = [c / f for c, f in zip(checks, floors, strict=True)]
    print(f"lrs-ws check: median {statistics.median(checks):.2f} s (range {min(checks):.2f}-{max(checks):.2f}), "
          f"{options.messages / statistics.median(checks):,.0f} messages/s")
    print(f"parse only:   median {statistics.median(floors):.2f} s (range {min(floors):.2f}-{max(floors):.2f})")
    print(f"ratio check / parse only: {statistics.median(ratios):.1f} (rounds {min(ratios):.1f}-{max(ratios):.1f})")


if __name__ == "__main__":
    main()
