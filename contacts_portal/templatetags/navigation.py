from django import template

register = template.Library()

#: Pages that belong to the contacts' part of the menu though another app
#: serves them: a contact's tabs and the actions started from the list.
CONTACT_PAGES = {("tickets", "contact_tickets"), ("tickets", "start"), ("tickets", "sync")}
#: The menu entry each app's pages light up.
SECTIONS = {"contacts": "contacts", "lgpd": "contacts", "bulk": "contacts", "tickets": "tickets", "jobs": "jobs"}


@register.filter
def nav_section(request) -> str:
    """The menu entry a page belongs to ("contacts", "tickets", "jobs"), or ""."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if (match.namespace, match.url_name) in CONTACT_PAGES:
        return "contacts"
    return SECTIONS.get(match.namespace, "")


@register.filter
def page_numbers(page):
    """The page numbers around `page` and at both ends, the rest elided
    ("1 … 9 10 11 … 40"): few enough for a phone's row."""
    return page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
