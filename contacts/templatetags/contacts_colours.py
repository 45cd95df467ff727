"""Colours without style attributes: the Content-Security-Policy refuses
inline styles that carry no nonce, so avatar and tag colours are classes."""

import re

from django import template
from django.utils.html import format_html, format_html_join

from contacts.models import Tag

register = template.Library()

AVATAR_HUES = 12  # .app-hue-0 … .app-hue-11 in static/css/app.css, 30° apart
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@register.filter
def hue_class(hue: int) -> str:
    """The avatar palette class nearest to a hue (0–359)."""
    return f"app-hue-{round(hue * AVATAR_HUES / 360) % AVATAR_HUES}"


@register.simple_tag(takes_context=True)
def tag_colour_styles(context, tags=None):
    """A <style> block with the page's nonce that gives each tag's chips their
    colour (class .app-tag-<id>). Full pages only: rows that htmx swaps in
    later arrive with another nonce, so they carry just the classes. A
    whole page that htmx fetches (a history restore on Back) has none
    either: htmx keeps the document's head, which has the block already,
    and a <style> with another nonce in what it parses is a CSP refusal.
    `tags`: the tags when the page has read them already; else every tag."""
    request = context.get("request")
    if request is not None and request.headers.get("HX-Request") == "true":
        return ""
    pairs = [(tag.pk, tag.color) for tag in tags] if tags is not None else Tag.objects.values_list("pk", "color")
    colours = (
        (pk, colour)
        for pk, colour in pairs
        # Validated on save, checked again: it is written into a stylesheet.
        if HEX_COLOUR.fullmatch(colour)
    )
    rules = format_html_join("", ".app-tag-{}{{--chip:{}}}", colours)
    return format_html('<style nonce="{}">{}</style>', context.get("csp_nonce", ""), rules)
