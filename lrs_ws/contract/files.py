"""Where our contract files are: the package data of ``lrs_ws.wsdl`` and ``lrs_ws.xsd``
(``wsdl/`` and ``xsd/`` in the source tree)."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_WSDL = "LearnerService.wsdl"


def _package_dir(package: str) -> Path:
    """The directory of a data package as a file path: lxml resolves xs:import by file location."""
    directory = resources.files(package)
    if not directory.is_dir():
        raise RuntimeError(f"{package} is not a directory on disk (lrs-ws cannot run from a zip file)")
    return Path(str(directory))


WSDL_DIR = _package_dir("lrs_ws.wsdl")
XSD_DIR = _package_dir("lrs_ws.xsd")
# The WSDLs import their schemas as ``../xsd/...``: both directories share this parent.
CONTRACT_ROOT = WSDL_DIR.parent


def wsdl_path(name: str = DEFAULT_WSDL) -> Path:
    """Path of one of our WSDL files (``wsdl/<name>``)."""
    path = WSDL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"contract file not found: {path}")
    return path


def schema_files() -> list[Path]:
    """Every ``xsd/*.xsd`` file, by name."""
    return sorted(XSD_DIR.glob("*.xsd"))
