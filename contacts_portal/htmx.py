"""Pages that htmx asks for in parts: the same URL answers a fragment to
htmx and the whole page without it, so every page works without
JavaScript."""

from django.utils.cache import patch_vary_headers


def is_htmx(request) -> bool:
    # A history restore wants the whole page back, not a fragment.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


class HtmxTemplateMixin:
    """Render `partial_template_name` for htmx requests, the page otherwise."""

    partial_template_name = None

    def get_template_names(self):
        if is_htmx(self.request):
            return [self.partial_template_name]
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "is_htmx": is_htmx(self.request)}

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response
