"""A test certificate authority and certificates signed by it, made with ``openssl``."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and certificates signed by it (PEM files)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def openssl_binary() -> str | None:
    return shutil.which("openssl")


def _openssl(*args: str, cwd: Path) -> None:
    binary = openssl_binary()
    assert binary is not None
    subprocess.run([binary, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _key_and_csr(folder: Path, name: str, subject: str) -> None:
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
        cwd=folder,
    )  # fmt: skip


def _sign(folder: Path, name: str, extensions: str) -> None:
    (folder / f"{name}.ext").write_text(
        extensions + "\nbasicConstraints = critical, CA:FALSE\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid, issuer\n"
    )
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-sha256", "-extfile", f"{name}.ext",
        "-out", f"{name}.crt",
        cwd=folder,
    )  # fmt: skip


def make_tls_files(
    folder: Path, server_names: tuple[str, ...] = ("localhost", "127.0.0.1")
) -> TlsFiles:
    """Generate a CA, a server certificate for ``server_names`` (DNS names or IPv4 addresses
    in its subjectAltName) and a client certificate, all signed by the CA."""
    if openssl_binary() is None:
        pytest.skip("the openssl command is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-sha256",
        "-subj", "/CN=CityOps Test CA",
        "-addext", "basicConstraints = critical, CA:TRUE",
        "-addext", "keyUsage = critical, keyCertSign, cRLSign",
        "-addext", "subjectKeyIdentifier = hash",
        cwd=folder,
    )  # fmt: skip
    alt_names = ", ".join(
        f"IP:{name}" if name.replace(".", "").isdigit() else f"DNS:{name}" for name in server_names
    )
    _key_and_csr(folder, "server", f"/CN={server_names[0]}")
    _sign(
        folder,
        "server",
        f"subjectAltName = {alt_names}\nkeyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth",
    )
    _key_and_csr(folder, "client", "/CN=cityops-workstation")
    _sign(folder, "client", "keyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth")
    return TlsFiles(
        ca=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        client_cert=folder / "client.crt",
        client_key=folder / "client.key",
    )
