"""Keys of FASTDB's challenge-response login: making them from a password, and the challenge.

The layout is FASTDB's (rkwebutil's ``rkauth``): an RSA-OAEP (SHA-256) key pair; the private key as
PKCS#8 DER, encrypted with AES-256-GCM (no associated data, the 16-byte tag appended to the
ciphertext as WebCrypto does) under PBKDF2-HMAC-SHA256(password, 16-byte salt, 100000 iterations);
``privkey``, ``salt`` and ``iv`` (12 bytes) in standard base64. FASTDB's browser code makes 4096-bit
keys; the client only imports the key whatever its size, so 2048 bits here (a 4096-bit key takes
seconds to make, and one is made at every password change).
"""

from __future__ import annotations

import base64
import os
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from desctom.live.models.auth import FastdbUserKey

KEY_BITS = 2048
PBKDF2_ITERATIONS = 100_000
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def aes_key(password: str, salt: bytes) -> bytes:
    """The AES-256 key of ``password``: PBKDF2-HMAC-SHA256, 100000 iterations."""
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=PBKDF2_ITERATIONS)
    return kdf.derive(password.encode("utf-8"))


def new_keypair(password: str) -> tuple[str, dict]:
    """A fresh key pair: (public key PEM, ``{"privkey", "salt", "iv"}`` with the encrypted private key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt, iv = os.urandom(16), os.urandom(12)
    sealed = AESGCM(aes_key(password, salt)).encrypt(iv, der, None)  # ciphertext || 16-byte tag
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return pem, {"privkey": b64(sealed), "salt": b64(salt), "iv": b64(iv)}


def store_keys(user, password: str) -> FastdbUserKey:
    """Make and store ``user``'s keys for ``password`` (replacing older ones)."""
    pem, sealed = new_keypair(password)
    row, _ = FastdbUserKey.objects.update_or_create(user_id=user.pk,
                                                    defaults={"pubkey": pem, "privkey": sealed})
    return row


def ensure_keys(user, password: str) -> None:
    """Store keys for ``user`` if there are none (``password`` was just checked)."""
    if user.pk is not None and not FastdbUserKey.objects.filter(user_id=user.pk).exists():
        store_keys(user, password)


def keys_of(user) -> FastdbUserKey | None:
    return FastdbUserKey.objects.filter(user_id=user.pk).first()


def new_challenge(pubkey_pem: str) -> tuple[str, str]:
    """(the challenge text, a random UUID; its RSA-OAEP-SHA256 encryption with the public key, base64)."""
    text = str(uuid.uuid4())
    public = serialization.load_pem_public_key(pubkey_pem.encode("ascii"))
    return text, b64(public.encrypt(text.encode("utf-8"), OAEP))
