"""The published WSDL files of both services (package data; read through lrs_ws.contract)."""
