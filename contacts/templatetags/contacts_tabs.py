from django import template

from contacts.tabs import tabs_for

register = template.Library()


@register.simple_tag(takes_context=True)
def contact_tabs(context, contact) -> list[dict]:
    """{% contact_tabs object as tabs %}: the tabs other apps add to a contact."""
    return tabs_for(context["request"].user, contact)
