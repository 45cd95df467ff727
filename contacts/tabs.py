"""Tabs that apps above contacts add to a contact's popup and pages (the
tickets' "Conversas"), registered from their AppConfig.ready(), so that
contacts shows them without importing those apps. A tab is an address
that takes the contact's id and answers its panel to htmx and a page of
its own (with these tabs) without it, like the History tab."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class ContactTab:
    #: Names the tab and its panel (#contact-tab-<key>).
    key: str
    label: str | Promise
    #: A URL name that takes the contact's id.
    url_name: str
    #: Who sees the tab.
    permission: str


_tabs: dict[str, ContactTab] = {}


def register(tab: ContactTab) -> None:
    _tabs[tab.key] = tab


def tabs_for(user, contact) -> list[dict]:
    """The registered tabs `user` may open on `contact`: key, label, url."""
    return [
        {"key": tab.key, "label": tab.label, "url": reverse(tab.url_name, args=[contact.pk])}
        for tab in _tabs.values()
        if user.has_perm(tab.permission)
    ]
