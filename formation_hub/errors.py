class DomainError(Exception):
    """A refused operation, with a message a person can act on.

    Views, admin actions and the API show the message as it is; the API answers 409 unless the
    subclass says otherwise.
    """

    status_code = 409

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAllowed(DomainError):
    status_code = 403
