# The browser, page, screenshot and csp_violations fixtures of the contacts
# panel's browser tests.
from contacts.tests.browser.conftest import browser, csp_violations, page, screenshot  # noqa: F401
