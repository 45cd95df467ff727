"""Form widgets' attributes, written by a tag instead of Django's template:
the same text, and the project's template is the one widgets use."""

from pathlib import Path

import django
import pytest
from django import forms
from django.template import Context, Template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from contacts_portal.templatetags.form_attrs import widget_attrs

DJANGOS = (Path(django.__file__).parent / "forms" / "templates" / "django" / "forms" / "widgets" / "attrs.html").read_text()


@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {"class": "form-control", "maxlength": 200, "required": True, "disabled": False},
        {"placeholder": 'Tom & "Jerry" <b>', "data-x": "it's"},
        {"aria-label": mark_safe("<i>already safe</i>"), "step": 0.5, "data-list": (1, 2)},
        {"title": gettext_lazy("Search"), "autofocus": True, "value": ""},
    ],
)
def test_a_widgets_attributes_are_written_as_djangos_template_writes_them(attrs):
    assert widget_attrs(attrs) == Template(DJANGOS).render(Context({"widget": {"attrs": attrs}}))


def test_the_forms_widgets_are_written_with_the_projects_attributes_tag(settings):
    from django.forms.renderers import get_default_renderer

    template = get_default_renderer().get_template("django/forms/widgets/attrs.html")
    assert Path(template.origin.name) == Path(settings.BASE_DIR) / "templates" / "django" / "forms" / "widgets" / "attrs.html"
    html = forms.TextInput(attrs={"class": "form-control", "required": True, "disabled": False}).render("q", 'a "b"')
    assert html == '<input type="text" name="q" value="a &quot;b&quot;" class="form-control" required>'
