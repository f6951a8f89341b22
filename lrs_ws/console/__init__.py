"""The web console (`/console/`): the traffic, the learners, the jobs and the audit trail in a
browser. See lrs_ws.console.app and docs/console.md."""
