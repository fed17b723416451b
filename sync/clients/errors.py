"""What a failed call to Baserow or Docmost means: retryable (try again later) or permanent (retrying the
same call cannot help), with the product's status, error code and detail."""

from typing import Any


class ServiceError(Exception):
    """A call to Baserow or Docmost that did not succeed.

    `status` is the HTTP status (None when no response came back), `code` the product's error code
    (Baserow `ERROR_...`, Docmost's NestJS `error` such as "Not Found"), `detail` its explanation
    (Baserow `detail`, Docmost `message`) and `body` the parsed error body.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        service: str = "",
        method: str = "",
        path: str = "",
        status: int | None = None,
        code: str = "",
        detail: Any = None,
        body: Any = None,
    ):
        super().__init__(message)
        self.message = message
        self.service = service
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body


class RetryableError(ServiceError):
    """Worth trying again later: 5xx, timeout, connection error, 429.

    `request_sent` is False only when the server cannot have acted on the request (no connection was
    made, or a 429); `retry_after` is the server's Retry-After in seconds, when it sent one.
    """

    retryable = True

    def __init__(self, message: str, *, request_sent: bool = True, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.request_sent = request_sent
        self.retry_after = retry_after


class ServiceUnavailable(RetryableError):
    """5xx, a dropped or refused connection, or an answer that is not the product's JSON."""


class ServiceTimeout(ServiceUnavailable):
    """No answer within the timeout; the server may still have done the work."""


class RateLimited(RetryableError):
    """429: wait `retry_after` seconds (when given) before the next call."""


class PermanentError(ServiceError):
    """A 4xx other than 429, or a request refused before sending: retrying the same call cannot help."""


class NotFound(PermanentError):
    """404: the row, table or page does not exist (or no longer does)."""


class AuthenticationFailed(PermanentError):
    """401/403 that a renewed token did not cure, or credentials that are missing or wrong."""


class InvalidRequest(PermanentError):
    """Our own request is wrong (an unknown or missing field): refused before anything is sent."""


class PermanentFailure(Exception):  # noqa: N818 - named after the outcome the console shows
    """Retrying cannot help (a 4xx other than 429, a rule that cannot apply, no connection configured):
    the item goes dead. Raised by the rules and the client factory, not by an HTTP call."""
