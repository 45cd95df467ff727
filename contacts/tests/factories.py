from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from contacts.models import Contact, Tag, Wallet


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("s3cret-pass")


class WalletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wallet

    name = factory.Sequence(lambda n: f"Carteira {n}")
    user = factory.SubFactory(UserFactory)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"Etiqueta {n}")
    color = "#198754"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    name = factory.Faker("name", locale="pt_BR")
    number = factory.Sequence(lambda n: f"55119{n:08d}")

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


def stored_contact(days_ago: int = 0, **fields) -> Contact:
    """A contact stored as given (no normalising: rows written before it)
    and created `days_ago` days ago, for the tests of duplicate removal,
    where the oldest contact is kept."""
    fields.setdefault("number", "")
    made = ContactFactory(**fields)
    Contact.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    made.refresh_from_db()
    return made
