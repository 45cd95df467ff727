from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.lockout import attempts_left_message


class AttemptsLeftMixin:
    """A wrong password also says how many attempts are left before the
    lock-out, so that it does not come as a surprise."""

    def get_invalid_login_error(self):
        error = super().get_invalid_login_error()
        left = attempts_left_message(self.request)
        if left is None:
            return error
        return ValidationError([error, ValidationError(left, code="attempts_left")])


class LogInForm(AttemptsLeftMixin, AuthenticationForm):
    """The panel's log-in form."""


class AdminLogInForm(AttemptsLeftMixin, AdminAuthenticationForm):
    """Django admin's log-in form."""
