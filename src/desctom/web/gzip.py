"""gzip for JSON answers only, when the client accepts it (``Accept-Encoding: gzip``).

Django's ``GZipMiddleware`` compresses whole and streamed answers (the latter piece by piece, so
memory stays bounded). It is limited here to ``application/json``: the programs' answers, which
can be hundreds of MB, carry no secret reflected beside attacker-chosen text, so BREACH does not
apply to them; HTML pages (which hold CSRF tokens) and static files (WhiteNoise serves its own
pre-compressed copies) are left as they are.
"""

from __future__ import annotations

from django.middleware.gzip import GZipMiddleware


class JsonGZipMiddleware(GZipMiddleware):
    """``GZipMiddleware`` for responses whose Content-Type is ``application/json``."""

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("application/json"):
            return response
        return super().process_response(request, response)
