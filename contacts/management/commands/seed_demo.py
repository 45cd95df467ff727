from django.core.management.base import BaseCommand, CommandError

from contacts.demo import create_demo_contacts, create_demo_duplicates, ensure_demo_users


class Command(BaseCommand):
    help = (
        "Create realistic pt-BR demo contacts, a few groups and photos among them "
        "(and, with --with-users, the demo logins)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=200, help="How many contacts to add (default 200).")
        parser.add_argument("--with-users", action="store_true", help="Create the demo administrator and agents with their wallets.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeatable data.")
        parser.add_argument(
            "--duplicates",
            type=int,
            default=0,
            help="Also add this many duplicates of the new people, written as old rows were (for Remover duplicados).",
        )

    def handle(self, *args, contacts, with_users, seed, duplicates, **options):
        if contacts < 0 or duplicates < 0:
            raise CommandError("--contacts and --duplicates must be zero or more.")
        logins = ensure_demo_users() if with_users else []
        created = create_demo_contacts(count=contacts, seed=seed)
        self.stdout.write(f"Created {created} demo contacts.")
        if duplicates:
            self.stdout.write(f"Created {create_demo_duplicates(count=duplicates, seed=seed)} duplicates of them.")
        for login in logins:
            password = login.password or "(already existed; password unchanged)"
            self.stdout.write(f"  login: {login.username:<6} password: {password}  [{login.role}]")
