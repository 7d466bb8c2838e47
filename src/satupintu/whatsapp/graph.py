"""The few Graph API calls we make, with the standard library's HTTP client (no SDK)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from satupintu.whatsapp.models import WhatsAppAccount

TIMEOUT = 15
MAX_MEDIA_BYTES = 100 * 1024 * 1024


class GraphError(Exception):
    """The API answered with an error or could not be reached; the caller retries."""


def _request(account: WhatsAppAccount, url: str, *, body: dict[str, Any] | None = None,
             limit: int = 1024 * 1024) -> tuple[bytes, str]:
    if not url.startswith(("https://", "http://")):
        raise GraphError("only http(s) URLs are fetched")
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data,  # noqa: S310 - scheme checked above
                                 method="POST" if data is not None else "GET")
    req.add_header("Authorization", f"Bearer {account.access_token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
            content = resp.read(limit + 1)
            if len(content) > limit:
                raise GraphError(f"response from {url} is larger than {limit} bytes")
            return content, resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode("utf-8", "replace")
        raise GraphError(f"HTTP {exc.code} from the Graph API: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise GraphError(f"Graph API unreachable: {exc}") from exc


def _json(content: bytes) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError as exc:
        raise GraphError("the Graph API answered with something that is not JSON") from exc
    if not isinstance(value, dict):
        raise GraphError("the Graph API answered with an unexpected JSON value")
    return value


def send_message(account: WhatsAppAccount, body: dict[str, Any]) -> str:
    """POST {base}/{phone_number_id}/messages; returns the new message's wamid."""
    content, _ = _request(account, f"{account.base_url}/{account.phone_number_id}/messages",
                          body=body)
    answer = _json(content)
    try:
        return str(answer["messages"][0]["id"])
    except (KeyError, IndexError, TypeError) as exc:
        raise GraphError(f"no message id in the Graph API's answer: {answer!r:.200}") from exc


def download_media(account: WhatsAppAccount, media_id: str) -> tuple[bytes, str]:
    """GET {base}/{media_id} for the short-lived URL, then the bytes, both with the token."""
    meta = _json(_request(account, f"{account.base_url}/{media_id}")[0])
    url = meta.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise GraphError("the Graph API gave no download URL for the media")
    content, ctype = _request(account, url, limit=MAX_MEDIA_BYTES)
    return content, str(meta.get("mime_type") or ctype or "application/octet-stream")
