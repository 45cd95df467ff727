import os

import django

from contacts_portal.handlers import SiteApplication

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacts_portal.settings")
django.setup(set_prefix=False)
application = SiteApplication()
