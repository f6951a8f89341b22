"""The front: what every HTTP request goes through before an application answers it.

- `asgi`: the buffering ASGI front (whole bodies within limits, thread pools, refusals, drops)
- `mounts`: the mount table (path prefix -> application), and `Routes` for small JSON or HTML ones
- `answers`: answers, the error forms of the mounts, DropConnection
- `root`, `index_page`, `health`: what answers outside the mounts (/, /health, 404 faults)
- `soap_services`, `soap_endpoint`: the two SOAP services and how one is served
- `screening`: what a SOAP request must be before spyne sees it
- `hooks`: before- and after-hooks around every SOAP call
- `spyne_service`, `spyne_protocol`: spyne behind the screening, and what we change in it

The composition (what is mounted where) is lrs_ws.bootstrap.web_app.
"""
