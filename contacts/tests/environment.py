"""contacts_portal/settings.py as a server computes it from its environment."""

import importlib.util
import os
from pathlib import Path
from unittest import mock

import contacts_portal

SETTINGS_FILE = Path(contacts_portal.__file__).with_name("settings.py")

# What a production server is started with (DEBUG and HTTPS left to their
# defaults: off and on).
PRODUCTION_ENVIRONMENT = {"SECRET_KEY": "production-" * 6, "ALLOWED_HOSTS": "testserver"}


def settings_from_environment(**environ):
    """The settings module evaluated afresh with exactly this environment."""
    with mock.patch.dict(os.environ, environ, clear=True):
        spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def production_settings(**environ):
    return settings_from_environment(**PRODUCTION_ENVIRONMENT, **environ)
