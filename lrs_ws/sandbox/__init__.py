"""Sandbox mode's entry point: the control API under /sandbox/, the request journal and the planted
faults, hung on the front's hooks. The rules are lrs_ws.services.sandbox's."""
