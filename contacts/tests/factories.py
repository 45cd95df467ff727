import factory
from django.contrib.auth import get_user_model

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
