"""One JSON POST with the standard library, its failures named without the URL."""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.parse
import urllib.request

from alerts.channels import DeliveryError


def post_json(url: str, body: bytes, *, timeout: float,
              headers: dict[str, str] | None = None) -> None:
    """POST `body` as JSON; any answer but 2xx, or no answer, is a DeliveryError."""
    try:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "profit-dashboard-alerts",
            **(headers or {})})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except TimeoutError:
        raise DeliveryError(f"timed out after {timeout:g} s") from None
    except urllib.error.URLError as exc:
        raise DeliveryError(describe(exc.reason, timeout)) from None
    except OSError as exc:
        raise DeliveryError(describe(exc, timeout)) from None
    except (ValueError, http.client.InvalidURL):  # its message would quote the URL
        raise DeliveryError("the URL is not a valid http(s) address") from None
    except http.client.HTTPException as exc:
        raise DeliveryError(f"bad answer ({type(exc).__name__})") from None


def describe(reason: object, timeout: float) -> str:
    """A network failure in words, never quoting the address it was for."""
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, ConnectionError):
        return "connection lost"
    return f"cannot connect ({type(reason).__name__})"
