"""HTTPS, and client certificates as the live LRS requires them (--ca-certs).

A CA, a server certificate for 127.0.0.1/localhost and client certificates are made here with
`cryptography`; the server is the real `lrs-ws serve`, the client zeep over requests.
"""
from __future__ import annotations

import datetime
import ipaddress
import signal
import socket
import time
from pathlib import Path

import pytest
import requests
import zeep
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree

from tests.conftest import BINDING
from tests.contract.conftest import credentials
from tests.e2e.serving import AMELIA, answer, find_by_uln, run_briefly, serving


class Pki:
    """PEM files in a folder: a CA and certificates it signs."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
        self.subject = subject
        self.certificate = (
            self._builder(subject, self.key.public_key())
            .issuer_name(subject)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(self.key, hashes.SHA256())
        )
        self.ca_pem = self._write(f"{name}-ca.pem", self.certificate.public_bytes(serialization.Encoding.PEM))
        self.ca_key = self._write(f"{name}-ca.key", _key_pem(self.key))

    @staticmethod
    def _builder(subject: x509.Name, public_key) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    def _write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def issue(self, name: str, *, server: bool) -> tuple[Path, Path]:
        """A certificate and key signed by this CA: serverAuth for 127.0.0.1 and localhost, or
        clientAuth."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            self._builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), key.public_key())
            .issuer_name(self.subject)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False,
            )
        certificate = builder.sign(self.key, hashes.SHA256())
        return (
            self._write(f"{name}.pem", certificate.public_bytes(serialization.Encoding.PEM)),
            self._write(f"{name}.key", _key_pem(key)),
        )


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _session(**settings) -> requests.Session:
    session = requests.Session()
    # Or REQUESTS_CA_BUNDLE in the environment would win over session.verify.
    session.trust_env = False
    for name, value in settings.items():
        setattr(session, name, value)
    return session


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = Pki(folder, "lrs")
    other = Pki(folder, "other")
    return {
        "ca": ca,
        "server": ca.issue("server", server=True),
        "client": ca.issue("client", server=False),
        "stranger": other.issue("stranger", server=False),  # a client certificate from another CA
    }


def test_client_certificates_required(tmp_path, pki):
    ca = str(pki["ca"].ca_pem)
    certfile, keyfile = map(str, pki["server"])
    client_cert = tuple(map(str, pki["client"]))
    with serving(
        tmp_path, "--workers", "1", "--certfile", certfile, "--keyfile", keyfile, "--ca-certs", ca,
        client={"verify": ca, "cert": client_cert},
    ) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        session = _session(verify=ca, cert=client_cert)
        client = zeep.Client(f"{server.base_url}/LearnerService.svc?singlewsdl", transport=zeep.Transport(session=session))
        address = etree.fromstring(session.get(f"{server.base_url}/LearnerService.svc?singlewsdl").content).xpath(
            "//*[local-name()='address']/@location"
        )
        assert address == [f"{server.base_url}/LearnerService.svc"]
        # the service at the WSDL's own address, over TLS with the client certificate
        assert client.service.learnerByULN(FindType="FUL", **credentials(), **AMELIA).ResponseCode == "WSRC0004"

        url = f"{server.base_url}/LearnerService.svc"
        with pytest.raises(requests.exceptions.ConnectionError):  # SSLError is one
            requests.post(url, data=find_by_uln(), verify=ca, timeout=5)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(url, data=find_by_uln(), verify=ca, cert=tuple(map(str, pki["stranger"])), timeout=5)
        assert answer(server.post("/LearnerService.svc", find_by_uln())) == "WSRC0004"  # still serving


def test_tls_without_client_certificates(tmp_path, pki):
    ca = str(pki["ca"].ca_pem)
    certfile, keyfile = map(str, pki["server"])
    options = ("--workers", "1", "--keep-alive", "2", "--certfile", certfile, "--keyfile", keyfile)
    with serving(tmp_path, *options, client={"verify": ca}) as server:
        # A client that connects and never starts its TLS handshake is closed like an incomplete head.
        stalled = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        started = time.monotonic()
        assert stalled.recv(1024) == b"" and time.monotonic() - started < 2 + 2
        stalled.close()

        session = _session(verify=ca)
        client = zeep.Client(f"{server.base_url}/LearnerService.svc?singlewsdl", transport=zeep.Transport(session=session))
        lrs = client.create_service(BINDING, f"{server.base_url}/LearnerService.svc")
        assert lrs.learnerByULN(FindType="FUL", **credentials(), **AMELIA).ResponseCode == "WSRC0004"
        with pytest.raises(requests.exceptions.SSLError):  # and plain HTTP clients must trust the CA
            requests.get(server.url("/health"), timeout=5)

        # zeep's session keeps its connection open and idle: a stop must not wait for it.
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=15) == 0
        took = time.monotonic() - started
        assert took < 5, f"stopping took {took:.1f} s with an idle TLS client connected"
        assert "Worker exiting" in server.log()  # stopped, not killed after the graceful timeout


def test_a_key_that_does_not_fit_the_certificate_is_one_line(tmp_path, pki):
    certfile, _ = pki["server"]
    result = run_briefly(
        ["serve", "--port", "0", "--database-url", f"sqlite:///{tmp_path / 'x.sqlite3'}",
         "--certfile", str(certfile), "--keyfile", str(pki["ca"].ca_key)],
        tmp_path,
        timeout=20,
    )
    assert result.returncode == 1, result
    assert result.stderr.startswith("Error: cannot use the certificate ") and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""  # no banner, nothing prepared
    assert not (tmp_path / "x.sqlite3").exists()
