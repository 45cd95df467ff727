"""The contact list's rows, written in Python.

A page shows 25 to 100 rows of about sixty values each. Rendered by the
template engine, a row cost about half a millisecond (a variable look-up,
a localisation and an escape for every value): 12 ms of a page's 30 ms of
CPU for 25 rows. Written here, as django.contrib.admin writes its change
list's cells (`admin_list.items_for_result`), the same rows take 3 ms.
The markup is the one `contacts/_contact_rows.html` used to hold; the list's
tests and browser tests read it.

Values are escaped with the standard library's html.escape, which is what
django.utils.html.escape does once it has checked its argument for a lazy
string: that check cost more than the escape, and a row escapes about
fifteen values (every one of them a str here; the row is marked safe once,
whole).
"""

from html import escape

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils import dateformat
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from .contacts_colours import hue_class
from .contacts_urls import row_url

register = template.Library()

_PERSON_ICON = (
    '<svg viewBox="0 0 24 24" width="18" height="18"><path fill="currentColor" d="M12 12a4.5 4.5 0 1 0-4.5-4.5A4.5 4.5 0 0 0 12 12Zm0 '
    '2.2c-3.3 0-9 1.7-9 5V22h18v-2.8c0-3.3-5.7-5-9-5Z"/></svg>'
)
_COPY_ICON = (
    '<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path fill="currentColor" d="M16 1H4a2 2 0 0 0-2 2v14h2V3h12Zm3 '
    '4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2Zm0 16H8V7h11Z"/></svg>'
)
_TICKET_ICON = (
    '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path fill="currentColor" d="M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 '
    '0 0 0 2-2V4a2 2 0 0 0-2-2Zm0 14H5.2L4 17.2V4h16Z"/></svg>'
)
_EDIT_ICON = (
    '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path fill="currentColor" d="M3 17.3V21h3.8L17.8 9.9l-3.7-3.7ZM20.7 '
    '7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.7 3.7Z"/></svg>'
)
_DELETE_ICON = (
    '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path fill="currentColor" d="M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 '
    '2-2V7H6ZM19 4h-3.5l-1-1h-5l-1 1H5v2h14Z"/></svg>'
)


class _Row:
    """What every row of a page shares: the labels (translated once), what
    the user may do, and the form token."""

    def __init__(self, context):
        perms = context["perms"]
        self.can_select = self.can_edit = perms["contacts"]["change_contact"]
        self.can_delete = perms["contacts"]["delete_contact"]
        self.can_start_ticket = perms["tickets"]["add_ticket"]
        self.csrf_input = CsrfTokenNode().render(context) if self.can_start_ticket else ""
        self.edit = escape(gettext("Edit"))
        self.delete = escape(gettext("Delete"))
        self.copy = escape(gettext("Copy the number"))
        self.chat = escape(gettext("Open the WhatsApp chat"))
        self.ticket = escape(gettext("Start a ticket"))
        self.unknown_number = escape(gettext("number not known yet"))
        self.group = escape(gettext("group"))
        self.wallet = escape(gettext("Wallet"))
        self.telegram = escape(gettext("Telegram"))
        self.birthday = escape(gettext("Birthday today"))
        self.opt_out = escape(gettext("no messages"))
        self.select = escape(gettext("Select"))

    def html(self, contact) -> str:
        pk = int(contact.pk)
        name = escape(contact.name)
        out = [f'\n<tr id="contact-{pk}">\n  ']
        if self.can_select:
            out.append(
                f'<td class="app-cell-select"><input class="form-check-input" type="checkbox" name="contact" value="{pk}" '
                f'form="bulk-form" data-bulk-row aria-label="{self.select}: {name}"></td>'
            )
        out.append('\n  <td class="app-cell-photo">')
        if contact.photo:
            version = dateformat.format(contact.updated_at, "U")
            out.append(
                f'<img class="app-avatar" src="{escape(row_url("contacts:photo", pk))}?v={version}" alt="" loading="lazy" width="32" height="32">'
            )
        elif contact.named_by_number:
            out.append(f'<span class="app-avatar app-avatar-neutral" aria-hidden="true">{_PERSON_ICON}</span>')
        else:
            out.append(
                f'<span class="app-avatar app-avatar-initials {hue_class(contact.avatar_hue)}" aria-hidden="true">{escape(contact.initials)}</span>'
            )
        out.append(f'</td>\n  <td class="app-cell-name">\n    <div class="app-name" title="{name}">{name}')
        if contact.birthday_today:
            out.append(f' <span class="app-birthday" title="{self.birthday}" role="img" aria-label="{self.birthday}">🎂</span>')
        if contact.is_group:
            out.append(f' <span class="badge text-bg-light border">{self.group}</span>')
        if contact.opt_out_channels:
            channels = ", ".join(escape(channel) for channel in contact.opt_out_channels)
            out.append(f' <span class="badge text-bg-warning app-opt-out-badge" title="{channels}">{self.opt_out}</span>')
        out.append("</div>\n    ")
        if contact.company:
            company = escape(contact.company)
            out.append(f'<div class="app-company" title="{company}">{company}</div>')
        out.append('\n  </td>\n  <td class="app-cell-phone">')
        number = contact.formatted_number
        if number:
            number = escape(number)
            digits = escape(contact.number)
            out.append(
                f'<a href="https://wa.me/{digits}" target="_blank" rel="noopener" title="{self.chat}">{number}</a>'
                f'<button type="button" class="app-copy" data-copy="+{digits}" title="{self.copy}" aria-label="{self.copy}: {number}" hidden>'
                f"{_COPY_ICON}</button>"
            )
        elif contact.number_unknown:
            out.append(f'<span class="app-number-unknown">{self.unknown_number}</span>')
        else:
            out.append("—")
        wallet = contact.wallet
        wallet_name = escape(wallet.name) if wallet else ""
        out.append(
            f'</td>\n  <td class="app-cell-wallet{"" if wallet else " app-cell-empty"}" data-label="{self.wallet}" '
            f'title="{wallet_name}">{wallet_name or "—"}</td>\n'
        )
        telegram_id = escape(contact.telegram_id)
        out.append(
            f'  <td class="app-cell-telegram{"" if telegram_id else " app-cell-empty"}" data-label="{self.telegram}">{telegram_id or "—"}</td>\n'
        )
        email = escape(contact.email)
        out.append(f'  <td class="app-cell-email{"" if email else " app-cell-empty"}" title="{email}">{email or "—"}</td>\n')
        out.append('  <td class="app-cell-tags">')
        tags = contact.row_tags
        if tags:
            first = tags[0]
            out.append(f'<div class="app-tags"><span class="app-chip app-tag-{int(first.pk)}" title="{escape(first.name)}">{escape(first.name)}</span>')
            if len(tags) > 1:
                others = ", ".join(escape(tag.name) for tag in tags[1:])
                out.append(f'<span class="app-chip app-chip-more" title="{others}">+{len(tags) - 1}</span>')
            out.append("</div>")
        out.append('</td>\n  <td class="app-cell-actions">\n    ')
        if self.can_start_ticket:
            start_url = escape(row_url("tickets:start", pk))
            out.append(
                f'<form class="d-inline" method="post" action="{start_url}" hx-post="{start_url}" hx-target="#modal" hx-push-url="false" '
                f'hx-disabled-elt="find button">{self.csrf_input}<button type="submit" class="btn btn-sm btn-light app-icon-btn" '
                f'title="{self.ticket}" aria-label="{self.ticket}: {name}">{_TICKET_ICON}</button></form>'
            )
        out.append("\n    ")
        if self.can_edit:
            update_url = escape(row_url("contacts:update", pk))
            out.append(
                f'<a class="btn btn-sm btn-light app-icon-btn" href="{update_url}" hx-get="{update_url}" hx-target="#modal" hx-push-url="false" '
                f'title="{self.edit}" aria-label="{self.edit}: {name}">{_EDIT_ICON}</a>'
            )
        out.append("\n    ")
        if self.can_delete:
            delete_url = escape(row_url("contacts:delete", pk))
            out.append(
                f'<a class="btn btn-sm btn-light app-icon-btn text-danger" href="{delete_url}" hx-get="{delete_url}" hx-target="#modal" '
                f'hx-push-url="false" title="{self.delete}" aria-label="{self.delete}: {name}">{_DELETE_ICON}</a>'
            )
        out.append("\n  </td>\n</tr>\n")
        return "".join(out)


@register.simple_tag(takes_context=True)
def contact_rows(context, contacts) -> SafeString:
    """{% contact_rows page_obj.object_list %}: the <tr> of each contact,
    with the details pagination.with_row_details read for the page."""
    row = _Row(context)
    return mark_safe("".join(row.html(contact) for contact in contacts))
