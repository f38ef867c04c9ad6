"""One exception base, a subclass per failure, each carrying what it concerns.

    AggregatorError
    ├── ConfigError(path, line, key)            feeds.yaml is malformed          exit 2
    │   └── ConfigLocked(path, holder)          another command is editing it    exit 4
    ├── FeedError(url)                          one feed failed; the run goes on
    │   ├── FetchError
    │   │   ├── NetworkError                    DNS, connect, TLS, reset
    │   │   ├── FetchTimeout                    the total deadline passed
    │   │   ├── HTTPStatusError(status)         4xx/5xx other than below
    │   │   ├── FeedGone                        410: stop polling
    │   │   ├── TooManyRedirects                a chain or loop longer than allowed
    │   │   └── BodyTooLarge                    over max_body_bytes, decompressed
    │   └── ParseError                          the body is not a feed
    ├── StoreError(path)                                                         exit 3
    │   ├── StoreCorrupt(path, backup)          does not load; never overwritten
    │   └── StoreLocked(path)                   another run holds the lock      exit 4
    └── PublishError(path)                      an output file could not be written  exit 5

``str(error)`` is always one line that names the file, line or URL at fault.
"""

from __future__ import annotations

from pathlib import Path


class AggregatorError(Exception):
    """Base of every error the aggregator raises on purpose."""

    exit_code = 1

    def __str__(self) -> str:  # one line, whatever the message held
        return " ".join(super().__str__().split())


class ConfigError(AggregatorError):
    exit_code = 2

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None,
                 key: str | None = None):
        self.path, self.line, self.key, self.message = path, line, key, message
        where = str(path) if path is not None else "config"
        if line:
            where += f":{line}"
        super().__init__(f"{where}: {message}")


class ConfigLocked(ConfigError):
    """Another aggregator command holds feeds.yaml's edit lock; *holder* says who (pid, command)."""

    exit_code = 4

    def __init__(self, path: Path | str, holder: str, waited: float):
        self.holder, self.waited = holder, waited
        super().__init__(f"being edited by another aggregator command ({holder}); gave up after {waited:g}s, "
                         "try again", path)


class FeedError(AggregatorError):
    def __init__(self, url: str, message: str):
        self.url, self.message = url, message
        super().__init__(f"{url}: {message}")

    def __reduce__(self) -> tuple:  # picklable, so parse errors cross the process pool intact
        return (_rebuild, (type(self), self.__dict__.copy(), str(self)))


class FetchError(FeedError):
    pass


class NetworkError(FetchError):
    pass


class FetchTimeout(FetchError):
    pass


class HTTPStatusError(FetchError):
    def __init__(self, url: str, status: int, message: str | None = None):
        self.status = status
        super().__init__(url, message or f"HTTP {status}")


class FeedGone(HTTPStatusError):
    def __init__(self, url: str):
        super().__init__(url, 410, "HTTP 410 Gone: no longer polled, --force included, until "
                                   "`aggregator feeds reset URL` (or the feed is added again)")


class TooManyRedirects(FetchError):
    pass


class BodyTooLarge(FetchError):
    pass


class ParseError(FeedError):
    pass


def _rebuild(cls: type, state: dict, text: str) -> "AggregatorError":
    err = cls.__new__(cls)
    Exception.__init__(err, text)
    err.__dict__.update(state)
    return err


class StoreError(AggregatorError):
    exit_code = 3

    def __init__(self, path: Path | str, message: str):
        self.path, self.message = Path(path), message
        super().__init__(f"{path}: {message}")


class StoreCorrupt(StoreError):
    def __init__(self, path: Path | str, message: str, backup: Path | str | None = None,
                 hint: str | None = None):
        self.backup = Path(backup) if backup else None
        if hint is None:
            hint = (f"the last good copy is {backup} (aggregator store restore)" if backup
                    else "no backup exists")
        super().__init__(path, f"{message}; {hint}")


class StoreLocked(StoreError):
    exit_code = 4

    def __init__(self, path: Path | str, waited: float = 0.0):
        super().__init__(path, f"locked by another aggregator run (waited {waited:g}s); "
                               "try again later or raise settings.lock_timeout")


class PublishError(AggregatorError):
    exit_code = 5

    def __init__(self, path: Path | str, message: str):
        self.path, self.message = Path(path), message
        super().__init__(f"{path}: {message}")
