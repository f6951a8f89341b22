"""Faults and clock, and Scenarios (sandbox mode only): the planted faults with a form to plant
one (the API's rules: lrs_ws.services.sandbox.plant_fault) and buttons to remove them; the
register's clock, set or given back to the host; the demo scenarios as envelopes ready to send.
Every change is answered once every process sees it (as the sandbox API's are)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lrs_ws.clock import SYSTEM_CLOCK, UK
from lrs_ws.console.fields import is_number
from lrs_ws.console.scenario_envelopes import envelope_for
from lrs_ws.console.xml_view import as_curl, highlighted
from lrs_ws.contract.namespaces import TEMPURI
from lrs_ws.contract.wsdl import operation_messages
from lrs_ws.domain.organisation import is_ukprn
from lrs_ws.services import sandbox
from lrs_ws.services.ports import PlantedFault, PlantedFaultKind
from lrs_ws.services.sandbox import SandboxRefused
from lrs_ws.services.seed import load_demo_file

if TYPE_CHECKING:
    from lrs_ws.console.app import ConsoleApp, Page, RouteTable
    from lrs_ws.web.answers import Answer

# What a redirect after a change says (`?done=...&id=...`): fixed sentences, never text from the address.
NOTICES = {
    "added": "Planted fault {id}.",
    "removed": "Removed fault {id}.",
    "gone": "Fault {id} had already gone (its times used up, or removed).",
    "cleared": "Removed every planted fault.",
    "clock": "The register's clock is set.",
    "host": "The register tells the host's time again.",
}
FAULT_FIELDS = ("operation", "kind", "seconds", "code", "status", "times", "probability", "ukprn")
FAULT_DEFAULTS = {"operation": "*", "kind": "fault", "seconds": "", "code": "WSEC0999", "status": "", "times": "1",
                  "probability": "1", "ukprn": ""}


def routes(console: ConsoleApp) -> RouteTable:
    return {
        "/controls": {"GET": controls_page},
        "/controls/faults": {"POST": add_fault},
        "/controls/faults/remove-all": {"POST": remove_all_faults},
        "/controls/faults/{id}/remove": {"POST": remove_fault},
        "/controls/clock": {"POST": set_clock},
        "/controls/clock/clear": {"POST": clear_clock},
        "/scenarios": {"GET": scenarios_page},
    }


def operations() -> dict[str, list[str]]:
    """Every operation of both services, by service (the fault form's choices besides "*")."""
    services: dict[str, list[str]] = {"Learner Register": [], "Learning records (R9)": []}
    for request, (operation, _) in operation_messages().items():
        services["Learning records (R9)" if request.startswith(f"{{{TEMPURI}}}") else "Learner Register"].append(operation)
    return {service: sorted(names, key=str.lower) for service, names in services.items()}


# --- faults and clock


def controls_page(page: Page, *, status: int = 200, fault_problem: str = "", clock_problem: str = "",
                  sent: Mapping[str, str] | None = None) -> Answer:
    done = page.text("done", limit=20)
    shown_id = page.number("id")
    notice = NOTICES[done].format(id=shown_id) if done in NOTICES else ""
    with page.runtime.unit_of_work() as uow:
        faults = uow.sandbox.faults()
        now, setting = sandbox.register_time(uow, SYSTEM_CLOCK)
    register_now = now.astimezone(UK)
    clock_sent = {"now": register_now.strftime("%Y-%m-%dT%H:%M:%S"), "frozen": bool(setting and setting.frozen)}
    if sent is not None and "now" in sent:
        clock_sent = {"now": sent.get("now", ""), "frozen": bool(sent.get("frozen"))}
    fault_sent = {**FAULT_DEFAULTS, **{name: sent.get(name, "") for name in FAULT_FIELDS}} if sent and "kind" in sent else FAULT_DEFAULTS
    return page.render(
        "controls.html", status, notice=notice, faults=faults, operations=operations(), kinds=[k.value for k in PlantedFaultKind],
        codes=sorted(sandbox.FAULT_CODES), fault_problem=fault_problem, clock_problem=clock_problem, fault_sent=fault_sent,
        clock_sent=clock_sent, register_now=register_now, host_now=SYSTEM_CLOCK.now(), clock_set=setting is not None,
        frozen=bool(setting and setting.frozen),
    )


def add_fault(page: Page) -> Answer:
    sent = {name: page.text(name, limit=100, source=page.form) for name in FAULT_FIELDS}
    try:
        fault = _fault_from(sent)
        with page.runtime.unit_of_work() as uow:
            fault_id = sandbox.plant_fault(uow, fault)
    except SandboxRefused as refused:
        return controls_page(page, status=400, fault_problem=str(refused), sent=sent)
    _settled(page)
    return page.redirect("/controls", done="added", id=fault_id)


def remove_fault(page: Page) -> Answer:
    from lrs_ws.console.app import PageError

    text = page.params["id"]
    if not is_number(text):
        raise PageError(404, f"No fault {text!r}: a fault's id is a number")
    with page.runtime.unit_of_work() as uow:
        removed = uow.sandbox.remove_fault(int(text))
        uow.commit()
    _settled(page)
    return page.redirect("/controls", done="removed" if removed else "gone", id=text)


def remove_all_faults(page: Page) -> Answer:
    with page.runtime.unit_of_work() as uow:
        uow.sandbox.remove_faults()
        uow.commit()
    _settled(page)
    return page.redirect("/controls", done="cleared")


def set_clock(page: Page) -> Answer:
    sent = {"now": page.text("now", limit=40, source=page.form), "frozen": page.text("frozen", limit=10, source=page.form)}
    try:
        at = datetime.fromisoformat(sent["now"].replace("Z", "+00:00"))
    except ValueError:
        problem = (f"now: {sent['now']!r} is not a date and time (YYYY-MM-DDTHH:MM, UK time)" if sent["now"]
                   else "now: enter a date and time")
        return controls_page(page, status=400, clock_problem=problem, sent=sent)
    with page.runtime.unit_of_work() as uow:
        sandbox.set_clock(uow, at, bool(sent["frozen"]), real=SYSTEM_CLOCK)
    _settled(page)
    return page.redirect("/controls", done="clock")


def clear_clock(page: Page) -> Answer:
    with page.runtime.unit_of_work() as uow:
        sandbox.clear_clock(uow)
    _settled(page)
    return page.redirect("/controls", done="host")


def _settled(page: Page) -> None:
    """Answer once every process sees the change (a test's next SOAP call may reach any of them)."""
    if page.runtime.sandbox is not None:
        page.runtime.sandbox.settled()


def _fault_from(sent: Mapping[str, str]) -> PlantedFault:
    """The form's fault: each kind keeps its own detail (seconds, code or status) and no other;
    plant_fault then checks it as it does the API's."""
    operation = sent["operation"]
    if operation != "*" and not any(operation in names for names in operations().values()):
        raise SandboxRefused("operation", "choose an operation of either service, or * for every one")
    try:
        kind = PlantedFaultKind(sent["kind"])
    except ValueError:
        raise SandboxRefused("kind", f"must be one of {', '.join(k.value for k in PlantedFaultKind)}") from None
    ukprn = sent["ukprn"] or None
    if ukprn is not None and not is_ukprn(ukprn):
        raise SandboxRefused("ukprn", "8 letters or digits, or empty for every organisation")
    times = _whole(sent, "times")  # empty: until removed
    probability = _decimal(sent, "probability")
    return PlantedFault(
        None, operation, ukprn, kind,
        seconds=_decimal(sent, "seconds") if kind is PlantedFaultKind.DELAY else None,
        code=(sent["code"] or None) if kind is PlantedFaultKind.FAULT else None,
        status=_whole(sent, "status") if kind is PlantedFaultKind.HTTP else None,
        times=times, probability=1.0 if probability is None else probability,
    )


def _whole(sent: Mapping[str, str], name: str) -> int | None:
    if not sent[name]:
        return None
    try:
        return int(sent[name])
    except ValueError:
        raise SandboxRefused(name, f"{sent[name]!r} is not a whole number") from None


def _decimal(sent: Mapping[str, str], name: str) -> float | None:
    if not sent[name]:
        return None
    try:
        value = float(sent[name])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SandboxRefused(name, f"{sent[name]!r} is not a number")
    return value


# --- scenarios


def scenarios_page(page: Page) -> Answer:
    demo = load_demo_file()
    shown: list[dict[str, Any]] = []
    for number, scenario in enumerate(sandbox.scenario_catalogue(demo), start=1):
        envelope = envelope_for(scenario["operation"], scenario["request"], demo["organisation"])
        entry = {**scenario, "number": number, "envelope": envelope}
        if envelope is not None:
            url = page.runtime.settings.endpoint(envelope.endpoint)
            entry.update(xml=highlighted(envelope.xml), url=url, curl=as_curl(url, envelope.soap_action, envelope.xml))
        shown.append(entry)
    return page.render("scenarios.html", scenarios=shown)
