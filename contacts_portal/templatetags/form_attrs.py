"""A form widget's HTML attributes, written in Python.

Django writes them with a template (django/forms/widgets/attrs.html): a
loop, two comparisons, a filter and two escapes per attribute, for every
widget of every form. The contact popup's fields carry several attributes
each (class, autocomplete, inputmode, aria-describedby…), and writing them
was most of the popup's widget rendering (benchmarks/README.md).
templates/django/forms/widgets/attrs.html
replaces Django's template with this tag, which writes the same text.
"""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def widget_attrs(attrs: dict) -> str:
    """What attrs.html writes: ` name="value"` for each attribute, ` name`
    alone for True, nothing for False; names and values escaped unless
    marked safe."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}")
        if value is not True:
            out.append(f'="{conditional_escape(value if isinstance(value, str) else "%s" % (value,))}"')
    return mark_safe("".join(out))
