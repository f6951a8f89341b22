"""The XSD schemas the WSDLs import (package data; read through lrs_ws.contract)."""
