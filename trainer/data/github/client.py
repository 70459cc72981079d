"""A careful GitHub REST client on the stdlib, so the base install needs no HTTP library.

Careful means: requests are sequential (GitHub's advice against secondary rate limits); the primary
limit is read from ``X-RateLimit-*`` and waited out; ``Retry-After``, 403 "secondary rate limit" and
429 are honoured; 5xx, timeouts, truncated bodies and malformed JSON are retried with exponential
backoff and jitter, a bounded number of times; search and tree answers are cached with their ETags
and re-asked with ``If-None-Match`` (a 304 costs no quota). The token is sent only to the API's own
origin, never logged, and scrubbed from every message built from a server's answer.

Time is an injected ``Clock`` so tests can run hour-long waits in microseconds.
"""

from __future__ import annotations

import email.message
import hashlib
import http.client
import ipaddress
import json
import logging
import math
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from bash_ai import __version__
from bash_ai.errors import NetworkError, UsageError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = f"bash-ai/{__version__} (dataset fetcher; +https://github.com/)"
MAX_BODY = 64 << 20  # GitHub caps a recursive tree at 7 MB; anything far larger is not an API answer
_REDIRECTS = 5
_SECONDARY_FLOOR = 60.0  # GitHub: "wait for at least one minute" after a secondary limit without Retry-After
_BACKOFF_CAP = 60.0

# (what, done, total): the same shape as trainer.data's ProgressFn, so the CLI's bar can show waits
# (in seconds). ``what`` is one of two stable labels, so a bar keyed on it is reused, not multiplied.
WaitFn = Callable[[str, int, int | None], None]
RATE_LIMIT_WAIT = "github: waiting for the rate limit"
RETRY_WAIT = "github: retrying after an error"


class Clock(Protocol):
    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GitHubHTTPError(NetworkError):
    """A final error status; ``status`` lets the walk skip one repo (404, 409 empty, 451) and go on."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Retry(Exception):
    """One failed attempt that may succeed later: why, and how long the server asked us to wait."""

    def __init__(self, reason: str, wait: float | None = None, floor: float = 0.0, limited: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.floor = floor
        self.limited = limited  # a rate limit, not a failure


@dataclass
class Limit:
    remaining: int
    reset: float  # epoch seconds


def token_from_env(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    for key in ("GITHUB_TOKEN", "GH_TOKEN"):
        value = env.get(key, "").strip()
        if value:
            return value
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand, so the token never follows one to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class GitHubClient:
    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        token: str | None = None,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 1.0,
        max_wait: float = 3700.0,
        on_wait: WaitFn | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--api-url must be an http(s) URL, got {api_url!r}")
        loopback = _is_loopback(parts.hostname)
        if token and parts.scheme == "http" and not loopback:
            raise UsageError(f"refusing to send GITHUB_TOKEN over plain http to {parts.hostname}; use https")
        self.api_url = api_url.rstrip("/")
        self._origin = (parts.scheme, parts.netloc.lower())
        self._token = token or None
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.on_wait = on_wait
        self.cache_dir = cache_dir
        self.limits: dict[str, Limit] = {}
        self.stats = {"requests": 0, "not_modified": 0, "retries": 0, "waited_s": 0}
        proxies: dict[str, str] | None = {} if loopback else None  # loopback never goes through a proxy
        self._opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler(proxies))

    def __repr__(self) -> str:
        return f"GitHubClient({self.api_url!r}, authenticated={self._token is not None})"

    @property
    def authenticated(self) -> bool:
        return self._token is not None

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        return self.api_url + path + ("?" + urlencode(params) if params else "")

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None, *, cache: bool = False) -> Any:
        return self.request_json(self.url(path, params), cache=cache)[0]

    def pages(self, path: str, params: Mapping[str, str | int], *, cache: bool = False) -> Iterator[Any]:
        """Each page of a paginated answer, following ``Link: <...>; rel="next"`` on the same origin."""
        url: str | None = self.url(path, params)
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            body, headers = self.request_json(url, cache=cache)
            yield body
            url = next_link(headers.get("Link", ""))
            if url is not None and not self._same_origin(url):
                raise NetworkError("GitHub's pagination link points to another host; refusing to follow it")

    def request_json(self, url: str, *, cache: bool = False) -> tuple[Any, email.message.Message]:
        what = f"GET {urlsplit(url).path}"
        failures = 0
        while True:
            self._respect_limit(url)
            try:
                return self._attempt(url, cache)
            except _Retry as retry:
                failures += 1
                self.stats["retries"] += 1
                if failures > self.retries:
                    raise NetworkError(f"GitHub {what} failed after {failures} attempts: {retry.reason}") from None
                delay = retry.wait if retry.wait is not None else self._backoff(failures)
                delay = max(delay, retry.floor * 2 ** (failures - 1) if retry.floor else 0.0)
                log.info("%s: %s; retrying in %.1fs", what, retry.reason, delay)
                label = RATE_LIMIT_WAIT if retry.limited else RETRY_WAIT
                self._wait(delay, f"GitHub {what}: {retry.reason}", label)

    # -- one attempt ---------------------------------------------------------------------------

    def _attempt(self, url: str, cache: bool) -> tuple[Any, email.message.Message]:
        cached = self._cache_get(url) if cache else None
        target = url
        for _ in range(_REDIRECTS + 1):
            status, headers, body = self._send(target, cached["etag"] if cached and target == url else None)
            if status in (301, 302, 303, 307, 308) and headers.get("Location"):
                target = urljoin(target, headers["Location"])
                if urlsplit(target).scheme not in ("http", "https"):  # e.g. file:// would read local files
                    raise NetworkError(f"GitHub GET {urlsplit(url).path} redirected to a non-HTTP URL; refusing")
                continue
            break
        else:
            raise NetworkError(f"GitHub GET {urlsplit(url).path}: too many redirects")
        what = f"GET {urlsplit(url).path}"
        if 200 <= status < 300:
            try:
                data = json.loads(body)
            except ValueError:
                raise _Retry(f"malformed JSON in the answer ({len(body)} bytes)") from None
            etag = headers.get("ETag")
            if cache and etag:
                self._cache_put(url, etag, body)
            return data, headers
        if status == 304 and cached is not None:
            self.stats["not_modified"] += 1
            return json.loads(cached["body"]), headers
        message = self._message(body)
        if status == 401:
            hint = "check GITHUB_TOKEN" if self._token else "set GITHUB_TOKEN"
            raise GitHubHTTPError(f"GitHub {what}: HTTP 401 ({message}); {hint}", 401)
        if status in (403, 429):
            self._rate_limited(status, headers, message)
            raise GitHubHTTPError(f"GitHub {what}: HTTP {status} ({message})", status)
        if status >= 500 or status == 304:
            raise _Retry(f"HTTP {status} ({message})", wait=_retry_after(headers))
        raise GitHubHTTPError(f"GitHub {what}: HTTP {status} ({message})", status)

    def _rate_limited(self, status: int, headers: email.message.Message, message: str) -> None:
        """Raise _Retry for every flavour of rate limit; return for a plain 403 (forbidden)."""
        retry_after = _retry_after(headers)
        if headers.get("X-RateLimit-Remaining") == "0" and retry_after is None:
            reset = _number(headers.get("X-RateLimit-Reset"))
            if reset is not None:
                at = time.strftime("%H:%M:%S UTC", time.gmtime(reset))
                wait = max(1.0, reset - self.clock.time() + 1)
                raise _Retry(f"rate limit exhausted until {at}", wait=wait, limited=True)
        lowered = message.lower()
        if retry_after is not None or status == 429 or "secondary rate limit" in lowered or "abuse" in lowered:
            kind = "secondary rate limit" if status == 403 else f"HTTP {status} ({message})"
            floor = _SECONDARY_FLOOR if retry_after is None else 0.0
            raise _Retry(kind, wait=retry_after, floor=floor, limited=True)

    def _send(self, url: str, etag: str | None) -> tuple[int, email.message.Message, bytes]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if self._token and self._same_origin(url):
            headers["Authorization"] = f"Bearer {self._token}"
        if etag:
            headers["If-None-Match"] = etag
        request = urllib.request.Request(url, headers=headers, method="GET")
        self.stats["requests"] += 1
        try:
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    status, answer, body = response.status, response.headers, _read_body(response)
            except urllib.error.HTTPError as err:
                status, answer = err.code, err.headers
                body = _read_body(err)
        except (OSError, http.client.HTTPException) as err:  # URLError, timeouts, resets, IncompleteRead
            raise _Retry(self._redact(_network_reason(err, self.timeout))) from None
        self._note_limit(url, answer)
        return status, answer, body

    # -- rate limits and waiting ---------------------------------------------------------------

    def _note_limit(self, url: str, headers: email.message.Message) -> None:
        remaining, reset = _number(headers.get("X-RateLimit-Remaining")), _number(headers.get("X-RateLimit-Reset"))
        if remaining is None or reset is None:
            return
        resource = headers.get("X-RateLimit-Resource") or _resource(url)
        self.limits[resource] = Limit(int(remaining), reset)

    def _respect_limit(self, url: str) -> None:
        """Before asking, wait out a limit an earlier answer said was used up (no wasted request)."""
        limit = self.limits.get(_resource(url))
        if limit is None or limit.remaining > 0:
            return
        wait = limit.reset - self.clock.time() + 1
        if wait > 0:
            at = time.strftime("%H:%M:%S UTC", time.gmtime(limit.reset))
            self._wait(wait, f"GitHub rate limit used up until {at}", RATE_LIMIT_WAIT)
        self.limits.pop(_resource(url), None)

    def _backoff(self, failures: int) -> float:
        return min(_BACKOFF_CAP, self.backoff * 2 ** (failures - 1)) * self.rng.uniform(0.5, 1.0)

    def _wait(self, seconds: float, reason: str, label: str) -> None:
        """Sleep in one-second steps, reporting (label, waited, total) so a progress bar can count down."""
        if seconds > self.max_wait:
            hint = "" if self._token else "; set GITHUB_TOKEN for a higher limit"
            raise NetworkError(
                f"{reason}: GitHub asks to wait {math.ceil(seconds)} s, "
                f"more than the {self.max_wait:g} s this fetch may wait (max_wait){hint}"
            )
        total, waited = math.ceil(seconds), 0.0
        while waited < seconds:
            if self.on_wait is not None:
                self.on_wait(label, int(waited), total)
            step = min(1.0, seconds - waited)
            self.clock.sleep(step)
            waited += step
        if self.on_wait is not None:
            self.on_wait(label, total, total)
        self.stats["waited_s"] += total

    # -- ETag cache ----------------------------------------------------------------------------

    def _cache_path(self, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()}.json"

    def _cache_get(self, url: str) -> dict[str, str] | None:
        path = self._cache_path(url)
        if path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            json.loads(entry["body"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache entry only costs one full request
        if not (isinstance(entry, dict) and entry.get("url") == url and isinstance(entry.get("etag"), str)):
            return None
        return entry

    def _cache_put(self, url: str, etag: str, body: bytes) -> None:
        path = self._cache_path(url)
        if path is None:
            return
        from bash_ai.io import atomic_write_text

        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return
        atomic_write_text(path, json.dumps({"url": url, "etag": etag, "body": text}))

    # -- helpers -------------------------------------------------------------------------------

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc.lower()) == self._origin

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    def _message(self, body: bytes) -> str:
        """The server's one-line error message, scrubbed of the token (a server may echo headers)."""
        try:
            data = json.loads(body)
            text = str(data.get("message", "")) if isinstance(data, dict) else ""
        except ValueError:
            text = body[:200].decode("utf-8", "replace")
        return self._redact(" ".join(text.split())[:200]) or "no message"


def _read_body(response: Any) -> bytes:
    """The whole body, bounded; a body shorter than its Content-Length raises IncompleteRead (retried)."""
    expected = _number(response.headers.get("Content-Length"))
    if expected is not None and expected > MAX_BODY:
        raise NetworkError(f"GitHub answered with {int(expected)} bytes, more than the {MAX_BODY} allowed")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(1 << 16):
        size += len(chunk)
        if size > MAX_BODY:
            raise NetworkError(f"GitHub answered with more than the {MAX_BODY} bytes allowed")
        chunks.append(chunk)
    body = b"".join(chunks)
    if expected is not None and size != int(expected):
        raise http.client.IncompleteRead(body, int(expected) - size)
    return body


def _network_reason(err: BaseException, timeout: float) -> str:
    if isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException):
        err = err.reason
    if isinstance(err, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(err, http.client.IncompleteRead):
        return f"truncated answer ({len(err.partial)} bytes, {err.expected} missing)"
    return " ".join(f"{type(err).__name__}: {err}".split())[:200]


def next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 Link header, as GitHub sends for pagination."""
    for part in header.split(","):
        section = part.split(";")
        url = section[0].strip()
        if url.startswith("<") and url.endswith(">") and any(p.strip() == 'rel="next"' for p in section[1:]):
            return url[1:-1]
    return None


def _retry_after(headers: email.message.Message) -> float | None:
    value = _number(headers.get("Retry-After"))
    return None if value is None else max(0.0, value)


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _resource(url: str) -> str:
    return "search" if "/search/" in urlsplit(url).path else "core"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
