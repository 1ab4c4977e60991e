"""How every delivery is signed: Standard Webhooks (https://www.standardwebhooks.com) plus the
reference's `X-Pulse-Signature`. Written with hmac and hashlib (the `standardwebhooks` package is
not a dependency; the scheme is a few lines).

- `webhook-id`: the message's id, the same on every retry of it.
- `webhook-timestamp`: Unix seconds when it was signed.
- `webhook-signature`: `v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`. The key is
  the secret's base64 part when the secret is a Standard Webhooks secret (`whsec_<base64>`),
  else the secret's UTF-8 bytes.
- `X-Pulse-Signature`: `sha256=<hex of HMAC-SHA256(secret as UTF-8, raw body)>`, what the API
  reference describes: "computing HMAC-SHA256(secret, raw_body) and comparing".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    """The Standard Webhooks HMAC key of `secret`."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def signature_headers(secret: str, *, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers that let a receiver check a delivery came from Pulse, unaltered."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    standard = base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest()).decode()
    plain = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{standard}",
            "X-Pulse-Signature": f"sha256={plain}"}
