from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.lockout import attempts_left_message


class LogInForm(AuthenticationForm):
    """The log-in form; a wrong password also says how many attempts are
    left before the lock-out, so it does not come as a surprise."""

    def get_invalid_login_error(self):
        error = super().get_invalid_login_error()
        left = attempts_left_message(self.request)
        if left is None:
            return error
        return ValidationError([error, ValidationError(left, code="attempts_left")])
