from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.http import QueryDict

from audit.recording import Source, recording
from contacts import birthdays
from contacts.filters import ContactFilter
from contacts.models import Contact, Segment, Tag, Wallet
from jobs.tasks import run_job

from bulk.models import Action
from bulk.services import BulkError, Target, bulk_confirm, bulk_count, bulk_prepare, counts_sentence


class Command(BaseCommand):
    help = (
        "Add or remove a tag, move to a wallet or delete every contact a search and filters find, "
        "as the contact list's bulk actions do; prints the count. --dry-run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--q", default="", help="Only the contacts this search finds (as in the panel).")
        parser.add_argument("--wallet", default="", help="Only this wallet's contacts (by name; 'none' for no wallet).")
        parser.add_argument("--tag", action="append", default=[], help="Only contacts with this tag (by name; repeat for any of several).")
        parser.add_argument("--birthday", choices=list(birthdays.WINDOWS), help="Only contacts whose birthday is today, in the next 7 days (week) or 30 days (month).")
        parser.add_argument("--segment", default="", help="Only the contacts of this saved segment (by name; a shared one first).")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--add-tag", metavar="NAME", help="Give every contact found this tag.")
        action.add_argument("--remove-tag", metavar="NAME", help="Take this tag from every contact found.")
        action.add_argument("--move-to-wallet", metavar="NAME", help="Move every contact found to this wallet.")
        action.add_argument("--delete", action="store_true", help="Delete every contact found.")
        parser.add_argument("--dry-run", action="store_true", help="Only count; change nothing.")
        parser.add_argument("--user", default="", help="Act as this user: only the contacts they may see, with their permissions.")

    @no_translations
    def handle(self, *args, q, wallet, tag, birthday, segment, add_tag, remove_tag, move_to_wallet, delete, dry_run, user, **options):
        user = self.user(user)
        target = self.target(add_tag=add_tag, remove_tag=remove_tag, move_to_wallet=move_to_wallet, delete=delete)
        data = QueryDict(mutable=True)
        if q:
            data["q"] = q
        if wallet:
            data["wallet"] = "none" if wallet == "none" else str(self.wallet(wallet).pk)
        if tag:
            data.setlist("tag", [str(self.tag(name).pk) for name in tag])
        if birthday:
            data["birthday"] = birthday
        contacts = Contact.objects.visible_to(user) if user is not None else Contact.objects.all()
        viewer = user
        if segment:
            chosen = self.segment(segment)
            data["segment"] = str(chosen.pk)
            # Without --user, the segment as its owner sees it (as export_contacts does).
            viewer = user or chosen.owner
        if viewer is None:
            filterset = ContactFilter(data, queryset=contacts)
        else:
            filterset = ContactFilter.for_user(viewer, data, queryset=contacts)
        if filterset.notes:
            raise CommandError(" ".join(str(note) for note in filterset.notes))
        if getattr(filterset, "segment_problem", ""):
            raise CommandError(str(filterset.segment_problem))
        filters = {"q": q, "wallet": wallet, "tag": tag, "birthday": birthday or "", "segment": segment}
        try:
            with recording(source=Source.BULK, user=user):
                if dry_run:
                    counts = bulk_count(contacts=filterset.qs, target=target)
                    self.stdout.write(f"{counts_sentence(target, counts)}. Dry run: nothing was changed.")
                    return
                job = bulk_prepare(user=user, contacts=filterset.qs, target=target, filters={k: v for k, v in filters.items() if v})
                bulk_confirm(job=job, user=user, typed=str(job.total), run_now=True)
        except BulkError as error:
            raise CommandError(str(error)) from None
        run_job.call(job_id=job.pk)
        job.refresh_from_db()
        if job.status != job.Status.DONE:
            raise CommandError(job.error or "The action failed.")
        self.stdout.write(f"{job.result['changed']} of {job.total} contacts changed ({job.result['unchanged']} already so). Job {job.token}.")

    def user(self, username):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        return user

    def segment(self, name) -> Segment:
        found = list(Segment.objects.filter(name__iexact=name.strip()).select_related("owner").order_by("-shared", "id"))
        if not found:
            raise CommandError(f"There is no segment named {name!r}.")
        if len(found) > 1 and not (found[0].shared and not found[1].shared):
            raise CommandError(f"Several segments are named {name!r}; rename one of them.")
        return found[0]

    def wallet(self, name) -> Wallet:
        wallet = Wallet.objects.filter(name__iexact=name).first()
        if wallet is None:
            raise CommandError(f"There is no wallet named {name!r}.")
        return wallet

    def tag(self, name) -> Tag:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            raise CommandError(f"There is no tag named {name!r}.")
        return tag

    def target(self, *, add_tag, remove_tag, move_to_wallet, delete) -> Target:
        if add_tag:
            return Target(Action.ADD_TAG, tag=self.tag(add_tag))
        if remove_tag:
            return Target(Action.REMOVE_TAG, tag=self.tag(remove_tag))
        if move_to_wallet:
            return Target(Action.MOVE, wallet=self.wallet(move_to_wallet))
        return Target(Action.DELETE)
