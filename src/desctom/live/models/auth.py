"""Per-user keys of FASTDB's challenge-response login (``/auth/getchallenge``, ``/auth/respondchallenge``).

FASTDB's client logs in without sending its password: the server hands out the user's RSA private key,
encrypted with AES-256-GCM under a key derived from the password (PBKDF2-HMAC-SHA256, 100000
iterations), and a challenge encrypted with the public key; only the password's owner can decrypt the
challenge. The keys are made whenever a password is set, or at the first password login of a user who
has none yet (:mod:`desctom.live.queries.fastdb_keys`).
"""

from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone


class FastdbUserKey(models.Model):
    """One user's RSA key pair: the public key in PEM (SPKI) and the encrypted private key."""

    user = models.OneToOneField(User, primary_key=True, on_delete=models.CASCADE, related_name="+")
    #: ``-----BEGIN PUBLIC KEY-----`` PEM of the SPKI DER.
    pubkey = models.TextField()
    #: ``{"privkey": b64(AES-GCM ciphertext||tag of the PKCS#8 DER), "salt": b64(16 bytes),
    #: "iv": b64(12 bytes)}``
    privkey = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "live_fastdb_userkey"
