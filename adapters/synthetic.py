"""Deterministic synthetic learners that look like an English register.

Names come from Faker's en_GB person lists, read once at import; every choice is then made by
one `random.Random(seed)`, so the same `n` and `seed` give the same rows (and it stays fast:
no Faker call per row).
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from faker.providers.person.en_GB import Provider as _EnGbPerson

from lrs_ws.domain.uln import new_uln

# Ages are measured from a fixed day, not today, so a seed gives the same learners every year.
REFERENCE_DATE = date(2026, 9, 1)

MALE_GIVEN_NAMES: tuple[str, ...] = tuple(_EnGbPerson.first_names_male)
FEMALE_GIVEN_NAMES: tuple[str, ...] = tuple(_EnGbPerson.first_names_female)
FAMILY_NAMES: tuple[str, ...] = tuple(_EnGbPerson.last_names)
# Faker weights family names by frequency; keep that so Smith is commoner than Savage.
_FAMILY_NAME_CUM_WEIGHTS: tuple[float, ...] = tuple(
    itertools.accumulate(float(weight) for weight in _EnGbPerson.last_names.values())
)

# (outward code, post town, county or city): real districts across England.
POSTCODE_DISTRICTS: tuple[tuple[str, str, str], ...] = (
    ("B1", "Birmingham", "West Midlands"), ("B15", "Birmingham", "West Midlands"),
    ("B23", "Birmingham", "West Midlands"), ("B44", "Birmingham", "West Midlands"),
    ("B90", "Solihull", "West Midlands"), ("BA1", "Bath", "Somerset"),
    ("BB1", "Blackburn", "Lancashire"), ("BD7", "Bradford", "West Yorkshire"),
    ("BH8", "Bournemouth", "Dorset"), ("BL1", "Bolton", "Greater Manchester"),
    ("BN1", "Brighton", "East Sussex"), ("BN21", "Eastbourne", "East Sussex"),
    ("BR1", "Bromley", "Greater London"), ("BS5", "Bristol", "Bristol"),
    ("BS16", "Bristol", "Bristol"), ("CA1", "Carlisle", "Cumbria"),
    ("CB1", "Cambridge", "Cambridgeshire"), ("CH2", "Chester", "Cheshire"),
    ("CM1", "Chelmsford", "Essex"), ("CO4", "Colchester", "Essex"),
    ("CR0", "Croydon", "Greater London"), ("CT1", "Canterbury", "Kent"),
    ("CV1", "Coventry", "West Midlands"), ("CW1", "Crewe", "Cheshire"),
    ("DA1", "Dartford", "Kent"), ("DE1", "Derby", "Derbyshire"),
    ("DH1", "Durham", "County Durham"), ("DL1", "Darlington", "County Durham"),
    ("DN1", "Doncaster", "South Yorkshire"), ("DT1", "Dorchester", "Dorset"),
    ("DY1", "Dudley", "West Midlands"), ("E1", "London", "Greater London"),
    ("E17", "London", "Greater London"), ("EN1", "Enfield", "Greater London"),
    ("EX1", "Exeter", "Devon"), ("FY1", "Blackpool", "Lancashire"),
    ("GL1", "Gloucester", "Gloucestershire"), ("GU1", "Guildford", "Surrey"),
    ("HA1", "Harrow", "Greater London"), ("HD1", "Huddersfield", "West Yorkshire"),
    ("HG1", "Harrogate", "North Yorkshire"), ("HP20", "Aylesbury", "Buckinghamshire"),
    ("HR1", "Hereford", "Herefordshire"), ("HU3", "Hull", "East Riding of Yorkshire"),
    ("HX1", "Halifax", "West Yorkshire"), ("IG1", "Ilford", "Greater London"),
    ("IP1", "Ipswich", "Suffolk"), ("KT1", "Kingston upon Thames", "Greater London"),
    ("L1", "Liverpool", "Merseyside"), ("L15", "Liverpool", "Merseyside"),
    ("LA1", "Lancaster", "Lancashire"), ("LE1", "Leicester", "Leicestershire"),
    ("LE11", "Loughborough", "Leicestershire"), ("LN1", "Lincoln", "Lincolnshire"),
    ("LS6", "Leeds", "West Yorkshire"), ("LS11", "Leeds", "West Yorkshire"),
    ("LU1", "Luton", "Bedfordshire"), ("M1", "Manchester", "Greater Manchester"),
    ("M14", "Manchester", "Greater Manchester"), ("M20", "Manchester", "Greater Manchester"),
    ("ME4", "Chatham", "Kent"), ("MK9", "Milton Keynes", "Buckinghamshire"),
    ("N1", "London", "Greater London"), ("N17", "London", "Greater London"),
    ("NE1", "Newcastle upon Tyne", "Tyne and Wear"), ("NE6", "Newcastle upon Tyne", "Tyne and Wear"),
    ("NG1", "Nottingham", "Nottinghamshire"), ("NG7", "Nottingham", "Nottinghamshire"),
    ("NN1", "Northampton", "Northamptonshire"), ("NR1", "Norwich", "Norfolk"),
    ("NW1", "London", "Greater London"), ("OL1", "Oldham", "Greater Manchester"),
    ("OX1", "Oxford", "Oxfordshire"), ("OX4", "Oxford", "Oxfordshire"),
    ("PE1", "Peterborough", "Cambridgeshire"), ("PL1", "Plymouth", "Devon"),
    ("PO1", "Portsmouth", "Hampshire"), ("PR1", "Preston", "Lancashire"),
    ("RG1", "Reading", "Berkshire"), ("RH10", "Crawley", "West Sussex"),
    ("RM1", "Romford", "Greater London"), ("S1", "Sheffield", "South Yorkshire"),
    ("S10", "Sheffield", "South Yorkshire"), ("SE1", "London", "Greater London"),
    ("SE15", "London", "Greater London"), ("SG1", "Stevenage", "Hertfordshire"),
    ("SK1", "Stockport", "Greater Manchester"), ("SL1", "Slough", "Berkshire"),
    ("SN1", "Swindon", "Wiltshire"), ("SO14", "Southampton", "Hampshire"),
    ("SR1", "Sunderland", "Tyne and Wear"), ("SS1", "Southend-on-Sea", "Essex"),
    ("ST1", "Stoke-on-Trent", "Staffordshire"), ("SW1A", "London", "Greater London"),
    ("SW11", "London", "Greater London"), ("TA1", "Taunton", "Somerset"),
    ("TN1", "Tunbridge Wells", "Kent"), ("TQ1", "Torquay", "Devon"),
    ("TR1", "Truro", "Cornwall"), ("TS1", "Middlesbrough", "North Yorkshire"),
    ("TW1", "Twickenham", "Greater London"), ("UB1", "Southall", "Greater London"),
    ("W1D", "London", "Greater London"), ("W12", "London", "Greater London"),
    ("WA1", "Warrington", "Cheshire"), ("WC1E", "London", "Greater London"),
    ("WD17", "Watford", "Hertfordshire"), ("WF1", "Wakefield", "West Yorkshire"),
    ("WN1", "Wigan", "Greater Manchester"), ("WR1", "Worcester", "Worcestershire"),
    ("WS1", "Walsall", "West Midlands"), ("WV1", "Wolverhampton", "West Midlands"),
    ("YO1", "York", "North Yorkshire"), ("YO10", "York", "North Yorkshire"),
)
# Letters allowed in the inward code (no C, I, K, M, O, V).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
STREET_SUFFIXES = (
    "Road", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Gardens", "Crescent", "Place",
    "Grove", "Terrace", "Court", "Walk", "Rise", "Mews", "Hill", "Park", "View", "Row",
)
SCHOOL_KINDS = ("Academy", "High School", "School", "College", "Community School", "Grammar School")
NATIONALITIES = ("GBR",) * 12 + ("IRL", "POL", "IND", "PAK", "ROU", "NGA", "ITA", "FRA")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved: never a real mailbox


def _age_in_days(rng: random.Random) -> int:
    """Mostly 14-25 (further education and apprenticeships), with a tail to 70."""
    roll = rng.random()
    if roll < 0.78:
        years = rng.uniform(14.0, 26.0)
    elif roll < 0.95:
        years = rng.uniform(26.0, 45.0)
    else:
        years = rng.uniform(45.0, 70.0)
    return int(years * 365.25)


def _post_code(rng: random.Random, outward: str) -> str:
    return f"{outward} {rng.randrange(10)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def _email_local_part(*names: str) -> str:
    return ".".join("".join(ch for ch in name.lower() if ch.isalnum()) for name in names)


def generate_learners(
    n: int,
    seed: int = 0,
    *,
    taken: Callable[[str], bool] | None = None,
    reference_date: date = REFERENCE_DATE,
) -> Iterator[dict[str, Any]]:
    """`n` learners as dicts of `uln` plus every DETAIL_FIELDS entry.

    ULNs are valid, unique within the run and, when given, not `taken` (the ULNs already on the
    register). The same `n`, `seed` and `taken` give the same rows.
    """
    rng = random.Random(seed)
    issued: set[str] = set()

    def uln_in_use(uln: str) -> bool:
        return uln in issued or (taken is not None and taken(uln))

    for _ in range(n):
        uln = new_uln(rng, uln_in_use)
        issued.add(uln)

        gender_roll = rng.random()
        if gender_roll < 0.49:
            gender, given_names = "1", MALE_GIVEN_NAMES
        elif gender_roll < 0.98:
            gender, given_names = "2", FEMALE_GIVEN_NAMES
        else:  # not specified / not known: either kind of name
            gender = "9" if gender_roll < 0.99 else "0"
            given_names = MALE_GIVEN_NAMES if rng.random() < 0.5 else FEMALE_GIVEN_NAMES
        given_name = rng.choice(given_names)
        family_name = rng.choices(FAMILY_NAMES, cum_weights=_FAMILY_NAME_CUM_WEIGHTS)[0]

        age_days = _age_in_days(rng)
        date_of_birth = reference_date - timedelta(days=age_days)
        adult = age_days >= 18 * 365

        outward, town, county = rng.choice(POSTCODE_DISTRICTS)
        street_name = rng.choices(FAMILY_NAMES, cum_weights=_FAMILY_NAME_CUM_WEIGHTS)[0]
        address_line1 = f"{rng.randint(1, 240)} {street_name} {rng.choice(STREET_SUFFIXES)}"

        title = None
        if adult and rng.random() < 0.4:
            title = "Mr" if gender == "1" else rng.choice(("Ms", "Miss", "Mrs")) if gender == "2" else "Mx"
        previous_family_name = None
        if adult and rng.random() < 0.06:
            previous_family_name = rng.choices(FAMILY_NAMES, cum_weights=_FAMILY_NAME_CUM_WEIGHTS)[0]

        verification_type = rng.choices(("0", "1", "2", "3", "5", "999"), weights=(60, 20, 10, 5, 4, 1))[0]
        share_roll = rng.random()
        ability_to_share = "1" if share_roll < 0.86 else "0" if share_roll < 0.95 else "2"

        yield {
            "uln": uln,
            "title": title,
            "given_name": given_name,
            "middle_other_name": rng.choice(given_names) if rng.random() < 0.35 else None,
            "family_name": family_name,
            "preferred_given_name": rng.choice(given_names) if rng.random() < 0.04 else None,
            "previous_family_name": previous_family_name,
            "family_name_at_age16": previous_family_name if previous_family_name and rng.random() < 0.5 else None,
            "school_at_age16": (
                f"{rng.choice(FAMILY_NAMES)} {rng.choice(SCHOOL_KINDS)}, {town}" if rng.random() < 0.3 else None
            ),
            "last_known_address_line1": address_line1,
            "last_known_address_line2": f"Flat {rng.randint(1, 40)}" if rng.random() < 0.12 else None,
            "last_known_address_town": town,
            "last_known_address_county_or_city": county if rng.random() < 0.7 else None,
            "last_known_post_code": _post_code(rng, outward),
            "date_of_address_capture": (
                reference_date - timedelta(days=rng.randrange(0, 1500)) if rng.random() < 0.5 else None
            ),
            "date_of_birth": date_of_birth,
            "place_of_birth": rng.choice(POSTCODE_DISTRICTS)[1] if rng.random() < 0.25 else None,
            "gender": gender,
            "email_address": (
                f"{_email_local_part(given_name, family_name)}{rng.randrange(100)}@{rng.choice(EMAIL_DOMAINS)}"
                if rng.random() < 0.4
                else None
            ),
            "nationality": rng.choice(NATIONALITIES) if rng.random() < 0.7 else None,
            "scottish_candidate_number": f"{rng.randrange(10**9):09d}" if rng.random() < 0.005 else None,
            "verification_type": verification_type,
            "other_verification_description": "Letter from employer" if verification_type == "999" else None,
            "ability_to_share": ability_to_share,
            "notes": "Synthetic learner" if rng.random() < 0.01 else None,
        }


# --- learning events (the PLR) ------------------------------------------------------------------

# (awarding organisation, its UKPRN as the feeds give it). Invented reference numbers.
AWARDING_ORGANISATIONS: tuple[tuple[str, str], ...] = (
    ("AQA Education", "10000001"), ("Pearson Education Ltd", "10004888"),
    ("OCR", "10004897"), ("WJEC-CBAC", "10007546"), ("City and Guilds of London Institute", "10001467"),
    ("NCFE", "10004491"),
)
EXAM_BOARDS = AWARDING_ORGANISATIONS[:4]  # GCSEs and A levels
_BOARD_PREFIX = {"AQA Education": "AQA", "Pearson Education Ltd": "Pearson Edexcel", "OCR": "OCR", "WJEC-CBAC": "WJEC Eduqas"}
GCSE_SUBJECTS: tuple[str, ...] = (
    "Mathematics", "English Language", "English Literature", "Combined Science", "Biology",
    "Chemistry", "Physics", "History", "Geography", "French", "Spanish", "Religious Studies",
    "Computer Science", "Art and Design", "Design and Technology", "Music", "Physical Education",
    "Business", "Drama", "Food Preparation and Nutrition",
)
A_LEVEL_SUBJECTS: tuple[str, ...] = (
    "Mathematics", "Further Mathematics", "Biology", "Chemistry", "Physics", "Psychology",
    "Sociology", "History", "Geography", "English Literature", "Economics", "Business",
    "Computer Science", "Art and Design", "Law", "Politics", "Media Studies", "French",
)
VOCATIONAL: tuple[tuple[str, str, str, tuple[str, ...], int], ...] = (
    # (qualification type, subject, level, grades, credits)
    (
        "BTEC National Extended Diploma",
        "Pearson BTEC Level 3 National Extended Diploma in Engineering",
        "Level 3",
        ("D*D*D*", "DDM", "MMM", "MPP"),
        180,
    ),
    ("BTEC National Diploma", "Pearson BTEC Level 3 National Diploma in Sport", "Level 3", ("D*D*", "DD", "MM", "PP"), 120),
    (
        "BTEC National Extended Certificate",
        "Pearson BTEC Level 3 National Extended Certificate in Health and Social Care",
        "Level 3",
        ("D*", "D", "M", "P"),
        60,
    ),
    ("Diploma", "City & Guilds Level 2 Diploma in Electrical Installation", "Level 2", ("Pass", "Merit", "Distinction"), 59),
    ("Diploma", "City & Guilds Level 3 Advanced Technical Diploma in Plumbing", "Level 3", ("Pass", "Merit", "Distinction"), 90),
    ("NVQ", "Level 2 NVQ Diploma in Hairdressing", "Level 2", ("Pass",), 46),
    ("NVQ", "Level 3 NVQ Diploma in Professional Cookery", "Level 3", ("Pass",), 58),
    ("Certificate", "NCFE CACHE Level 3 Certificate in Childcare and Education", "Level 3", ("Pass", "Merit", "Distinction"), 40),
    ("Functional Skills", "Functional Skills Qualification in Mathematics at Level 2", "Level 2", ("Pass",), 0),
    ("Functional Skills", "Functional Skills Qualification in English at Level 1", "Level 1", ("Pass",), 0),
    ("Award", "Level 2 Award in Food Safety in Catering", "Level 2", ("Pass",), 1),
    ("Apprenticeship standard", "Software Development Technician Apprenticeship", "Level 3", ("Pass", "Distinction"), 0),
)
LETTER_GCSE_GRADES = ("A*", "A", "B", "C", "C", "D", "E", "F", "G", "U")  # before the 2017 reform
GCSE_GRADES = ("9", "8", "7", "6", "5", "4", "4", "5", "6", "3", "2", "1", "U")
A_LEVEL_GRADES = ("A*", "A", "A", "B", "B", "C", "C", "D", "E", "U")
PROVIDER_KINDS = ("College", "Sixth Form College", "Academy", "Training Ltd")


def _exam_results_day(year: int, rng: random.Random, a_level: bool) -> date:
    """Mid to late August: A level results a week before GCSE results."""
    return date(year, 8, rng.randint(12, 18) if a_level else rng.randint(19, 25))


def _subject_code(rng: random.Random) -> str:
    """A regulated-qualification number shape, NNN/NNNN/C (invented values)."""
    return f"{rng.choice((500, 501, 600, 601, 603, 610))}/{rng.randrange(10000):04d}/{rng.choice('0123456789X')}"


def generate_learning_events(
    learners: Iterable[tuple[str, date]],
    per_learner: int,
    seed: int = 0,
    *,
    first_id: int = 1,
    reference_date: date = REFERENCE_DATE,
) -> Iterator[dict[str, Any]]:
    """`per_learner` PLR events for each (uln, date of birth), as dicts of `uln` plus every
    EVENT_FIELDS entry (at most `per_learner`: courses that start after `reference_date` are
    left out); IDs count up from `first_id`. Deterministic for the same arguments.

    A learner's record follows a pathway: GCSEs at 16 (NPD, or an awarding organisation feed
    `AO`), then A levels (NPD/AO) or vocational qualifications (ILR returns or AO), then adult
    courses. Events not finished by `reference_date` are continuing (Status C, no award or
    grade). About 1 in 100 is sensitive (Restriction 1).
    """
    rng = random.Random(seed)
    next_id = first_id
    for uln, born in learners:
        gcse_year = born.year + 16 + (1 if born.month >= 9 else 0)
        town = rng.choice(POSTCODE_DISTRICTS)[1]
        school = f"{rng.choice(FAMILY_NAMES)} {rng.choice(SCHOOL_KINDS)}"
        college = f"{town} {rng.choice(PROVIDER_KINDS)}"
        school_ukprn, college_ukprn = f"1000{rng.randrange(10000):04d}", f"1001{rng.randrange(10000):04d}"
        academic = rng.random() < 0.55
        gcses = min(rng.randint(5, 9), max(1, per_learner * 2 // 3))
        plan: list[tuple[str, int]] = [("gcse", gcse_year)] * gcses
        plan += [("a_level", gcse_year + 2)] * (3 if academic else 0)
        plan += [("vocational", gcse_year + rng.randint(1, 3))] * (0 if academic else 2)
        while len(plan) < per_learner:
            plan.append(("vocational", gcse_year + rng.randint(2, 12)))
        gcse_subjects = rng.sample(GCSE_SUBJECTS, k=min(len(GCSE_SUBJECTS), 9))
        a_level_subjects = rng.sample(A_LEVEL_SUBJECTS, k=3)
        for index, (kind, year) in enumerate(plan[:per_learner]):
            ao_name, ao_ukprn = rng.choice(EXAM_BOARDS if kind != "vocational" else AWARDING_ORGANISATIONS)
            event: dict[str, Any] = {
                "id": None, "uln": uln, "credits": 0, "restriction": "1" if rng.random() < 0.01 else "0",
                "under_data_challenge": "N", "status": "F", "language_for_assessment": None,
                "collection_type": None, "return_number": None, "achievement_provider_name": None,
                "achievement_provider_ukprn": None, "awarding_organisation_name": ao_name,
                "awarding_organisation_ukprn": ao_ukprn,
            }
            awarded: date | None
            if kind == "gcse" or kind == "a_level":
                a_level = kind == "a_level"
                numbered = year >= 2017  # GCSEs graded 9 to 1 from 2017
                gcse_title = "Level 1/Level 2 GCSE (9-1)" if numbered else "Level 1/Level 2 GCSE"
                subject = a_level_subjects[index % 3] if a_level else gcse_subjects[index % len(gcse_subjects)]
                awarded = _exam_results_day(year, rng, a_level)
                event.update(
                    qualification_type="GCE A level" if a_level else "GCSE (9 to 1)" if numbered else "GCSE (A* to G)",
                    subject=f"{_BOARD_PREFIX[ao_name]} {'Level 3 Advanced GCE' if a_level else gcse_title} in {subject}",
                    level="Level 3" if a_level else "Level 1/2",
                    grade=rng.choice(A_LEVEL_GRADES if a_level else GCSE_GRADES if numbered else LETTER_GCSE_GRADES),
                    participation_start_date=date(year - 2, 9, 1),
                    participation_end_date=date(year, 6, 30),
                    achievement_provider_name=school, achievement_provider_ukprn=school_ukprn,
                )
                if rng.random() < 0.7:
                    event.update(source="NPD", collection_type="A", return_number="01")
                else:
                    event.update(source="AO", language_for_assessment="English")
            else:
                qualification_type, subject, level, grades, credits = rng.choice(VOCATIONAL)
                start = date(year - 1, 9, rng.randint(1, 20))
                awarded = date(year, rng.randint(6, 7), rng.randint(1, 28))
                event.update(
                    qualification_type=qualification_type, subject=subject, level=level,
                    grade=rng.choice(grades), credits=credits,
                    participation_start_date=start, participation_end_date=awarded,
                    achievement_provider_name=college, achievement_provider_ukprn=college_ukprn,
                )
                if rng.random() < 0.75:
                    event.update(source="ILR", collection_type="W", return_number=f"{rng.randint(1, 14):02d}")
                else:
                    event.update(source="AO", language_for_assessment="English")
            event["subject_code"] = _subject_code(rng)
            if event["participation_start_date"] > reference_date:
                continue  # not started yet: younger learners have shorter records
            if awarded > reference_date:  # not finished yet: continuing, no result
                event.update(status="C", grade=None, participation_end_date=None)
                awarded = None
            event["achievement_award_date"] = awarded
            loaded = (
                awarded + timedelta(days=rng.randint(20, 90))
                if awarded
                else reference_date - timedelta(days=rng.randint(1, 60))
            )
            event["date_loaded"] = datetime(loaded.year, loaded.month, loaded.day, rng.randrange(7, 19),
                                            rng.randrange(60), rng.randrange(60))
            event["id"] = next_id
            next_id += 1
            yield event
