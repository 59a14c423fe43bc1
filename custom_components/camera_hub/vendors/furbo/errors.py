"""The Furbo cloud's refusals as typed errors, each a Camera Hub error the core already explains.

Result codes are the cloud's (`Code` in a non-200 JSON body). Messages name the path, the status and
the code only: bodies carry tokens and signed links, so they never reach an exception or a log.
"""

from __future__ import annotations

from ..base import AuthFailed, CameraHubError, LockedOut, Unreachable

CODE_MISSING_FIELD = 12001  # a field is missing or a name is unknown (the body does not say which)
CODE_TOKEN_INVALID = 12002  # also what the login answers for a wrong e-mail or password
CODE_CODE_REQUIRED = 12101
CODE_CODE_WRONG = 12102
CODE_CODE_EXPIRED = 12103
CODE_TOO_MANY_ATTEMPTS = 80001
CODE_RATE_LIMITED = 80002

# Credentials as AuthFailed names them: the translation keys invalid_furbo_password / invalid_furbo_code.
CREDENTIAL_PASSWORD = "furbo_password"  # noqa: S105 - a credential's name
CREDENTIAL_CODE = "furbo_code"

# When Furbo's 80001 names no TimeWait: its users saw "a cooldown of several minutes".
TOO_MANY_ATTEMPTS_SECONDS = 600.0


class FurboUnreachable(Unreachable):
    """The cloud did not answer, or answered with something that is not the API's shape."""


class FurboApiError(CameraHubError):
    """The cloud refused a call with a result code this client has no better name for."""

    def __init__(self, path: str, status: int, code: int | None) -> None:
        super().__init__(f"Furbo answered {status} (code {code}) on {path}")
        self.path = path
        self.status = status
        self.code = code


class FurboTokenInvalid(CameraHubError):
    """The session token expired or was revoked (a phone-app login can do that): log in again."""


class FurboRateLimited(Unreachable):
    """80002: too many calls; `time_wait` is the cloud's TimeWait, which understates the real wait."""

    def __init__(self, path: str, time_wait: float) -> None:
        super().__init__(f"Furbo rate-limited {path} (TimeWait {time_wait:.0f} s)")
        self.time_wait = time_wait


class FurboTooManyAttempts(LockedOut):
    """80001: the account refuses logins for a while."""

    def __init__(self, time_wait: float | None = None) -> None:
        super().__init__(time_wait if time_wait else TOO_MANY_ATTEMPTS_SECONDS)


class FurboPasswordRejected(AuthFailed):
    """The e-mail or password is wrong (or the password changed)."""

    def __init__(self) -> None:
        super().__init__(CREDENTIAL_PASSWORD)


class FurboCodeRequired(AuthFailed):
    """The account wants the code Furbo e-mails; carries what sending and verifying it need."""

    def __init__(self, account_id: str, candidate: str) -> None:
        super().__init__(CREDENTIAL_CODE)
        self.account_id = account_id
        self.candidate = candidate


class FurboCodeWrong(AuthFailed):
    def __init__(self) -> None:
        super().__init__(CREDENTIAL_CODE)


class FurboCodeExpired(AuthFailed):
    def __init__(self) -> None:
        super().__init__(CREDENTIAL_CODE)
