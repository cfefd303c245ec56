"""RSA keys: the pairs the simulator generates at first use, PEM loading for live keys, and RSA2 (SHA256withRSA).

Sim keys live in settings.platforms.sim_keys_dir (under the git-ignored var/), one PKCS#8 PEM file per named pair;
the public half is derived from it, so a pair can never be half-written or mismatched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from app.core.config import PROJECT_ROOT

if TYPE_CHECKING:
    from app.core.config import Settings

# Every pair the simulator needs; a later platform adds its names here.
SIM_KEY_PAIRS = ("alipay_app", "alipay_platform", "wechatpay_merchant", "wechatpay_platform", "wechatpay_public_key")
RSA_KEY_BITS = 2048


@dataclass(frozen=True)
class KeyPair:
    private_pem: str  # PKCS#8
    public_pem: str  # SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"), the form the platforms publish


@dataclass(frozen=True)
class SimKeys:
    pairs: dict[str, KeyPair]

    def __getitem__(self, name: str) -> KeyPair:
        return self.pairs[name]

    @property
    def alipay_app(self) -> KeyPair:
        """Our Alipay application's pair: we sign requests with it, the simulated gateway verifies them."""
        return self.pairs["alipay_app"]

    @property
    def alipay_platform(self) -> KeyPair:
        """The simulated Alipay's pair: the gateway signs answers with it, our client verifies them."""
        return self.pairs["alipay_platform"]

    @property
    def wechatpay_merchant(self) -> KeyPair:
        """Our WeChat Pay merchant API key: we sign requests and wx.requestPayment with it, the simulator verifies."""
        return self.pairs["wechatpay_merchant"]

    @property
    def wechatpay_platform(self) -> KeyPair:
        """The key of the simulated WeChat Pay platform certificate (see self_signed_certificate)."""
        return self.pairs["wechatpay_platform"]

    @property
    def wechatpay_public_key(self) -> KeyPair:
        """The simulated WeChat Pay public key (微信支付公钥), a key apart from the certificate's, as on WeChat Pay."""
        return self.pairs["wechatpay_public_key"]


def generate_key_pair() -> KeyPair:
    """A fresh RSA-2048 pair."""
    return key_pair_from_private(rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS))


def key_pair_from_private(private_key: rsa.RSAPrivateKey) -> KeyPair:
    """The PEM texts of a private key and its public half."""
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return KeyPair(private_pem=private_pem, public_pem=public_pem_of(private_key.public_key()))


def public_pem_of(public_key: rsa.RSAPublicKey) -> str:
    """A public key as SubjectPublicKeyInfo PEM."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (PKCS#1 or PKCS#8) or the bare base64 that Alipay's key tool writes."""
    data = text.strip().encode("ascii")
    if data.startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(data, password=None)
    else:
        key = serialization.load_der_private_key(_bare_base64(data), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM or the bare base64 that Alipay's console shows."""
    data = text.strip().encode("ascii")
    if data.startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
    else:
        key = serialization.load_der_public_key(_bare_base64(data))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def _bare_base64(data: bytes) -> bytes:
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except binascii.Error:
        raise ValueError("neither PEM nor base64") from None


def pkcs1_private_pem(private_key: rsa.RSAPrivateKey) -> str:
    """PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"): the only private key form alipay-sdk-python loads."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode("ascii")


# Loading a private key runs costly consistency checks; signers keep the few keys they use loaded.
_loaded_private_key = lru_cache(maxsize=16)(load_private_key)
_loaded_public_key = lru_cache(maxsize=16)(load_public_key)


def rsa2_sign(private_pem: str, text: str) -> str:
    """RSA2 as the platforms define it: SHA256withRSA (PKCS#1 v1.5) over the UTF-8 text, base64."""
    signature = _loaded_private_key(private_pem).sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(public_pem: str, text: str, signature_b64: str) -> bool:
    """Whether signature_b64 is a valid RSA2 signature of text."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        _loaded_public_key(public_pem).verify(signature, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


# A simulated certificate's validity: fixed, so that every process derives the very same certificate.
SIM_CERTIFICATE_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
SIM_CERTIFICATE_NOT_AFTER = datetime(2099, 12, 31, tzinfo=UTC)


@lru_cache(maxsize=8)
def self_signed_certificate(private_pem: str, common_name: str) -> str:
    """A self-signed X.509 certificate (PEM) of a simulator key, the same in every process that derives it."""
    private_key = _loaded_private_key(private_pem)
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # The serial comes from the key, so the key's certificate keeps its serial; the top bit set keeps it 20 bytes
    # long at most and never zero, as X.509 wants.
    serial = int.from_bytes(hashlib.sha256(public_der).digest()[:19], "big") | (1 << 151)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    # PKCS#1 v1.5 signatures are deterministic, so with fixed dates the certificate is too.
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(serial)
        .not_valid_before(SIM_CERTIFICATE_NOT_BEFORE)
        .not_valid_after(SIM_CERTIFICATE_NOT_AFTER)
        .sign(private_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def sim_keys_dir(settings: Settings) -> Path:
    """The simulator's key folder; relative paths are relative to the project root."""
    directory = Path(settings.platforms.sim_keys_dir)
    return directory if directory.is_absolute() else PROJECT_ROOT / directory


def ensure_sim_keys(settings: Settings) -> SimKeys:
    """The simulator's key pairs, generated into sim_keys_dir at first use and read from there afterwards."""
    return _load_sim_keys(str(sim_keys_dir(settings).resolve()))


@cache
def _load_sim_keys(directory: str) -> SimKeys:
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return SimKeys(pairs={name: _ensure_pair(folder / f"{name}.pem") for name in SIM_KEY_PAIRS})


def _ensure_pair(path: Path) -> KeyPair:
    if not path.exists():
        _write_once(path, generate_key_pair().private_pem)
    # Always read back: when several workers start at once, the file that won is the key everyone uses.
    return key_pair_from_private(load_private_key(path.read_text(encoding="ascii")))


def _write_once(path: Path, content: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            # link() never replaces an existing file, so the first complete key wins and nobody sees a partial one.
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
