"""Deterministic synthetic learners that look like an English register.

Names come from Faker's en_GB person lists, read once at import; every choice is then made by
one `random.Random(seed)`, so the same `n` and `seed` give the same rows (and it stays fast:
no Faker call per row).
"""
from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any, Callable, Iterator

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
