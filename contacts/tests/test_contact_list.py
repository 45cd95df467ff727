import pytest
from django.test.utils import override_settings
from django.urls import reverse

from contacts.tests.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")


def names(response):
    return [contact.name for contact in response.context["page_obj"].object_list]


def test_anonymous_user_is_sent_to_the_login_page(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_user_without_a_role_is_forbidden(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(LIST).status_code == 403


def test_administrator_sees_every_wallets_contacts(admin_client, agent_wallet, other_wallet):
    ContactFactory(name="Ana's client", wallet=agent_wallet)
    ContactFactory(name="Bruno's client", wallet=other_wallet)
    ContactFactory(name="Nobody's client", wallet=None)
    response = admin_client.get(LIST)
    assert response.status_code == 200
    assert sorted(names(response)) == ["Ana's client", "Bruno's client", "Nobody's client"]


def test_agent_sees_own_wallet_and_contacts_without_wallet(agent_client, agent_wallet, other_wallet):
    ContactFactory(name="Ana's client", wallet=agent_wallet)
    ContactFactory(name="Bruno's client", wallet=other_wallet)
    ContactFactory(name="Nobody's client", wallet=None)
    assert sorted(names(agent_client.get(LIST))) == ["Ana's client", "Nobody's client"]


@override_settings(CONTACTS_STRICT_WALLETS=True)
def test_in_strict_wallet_mode_agent_sees_only_own_wallet(agent_client, agent_wallet):
    ContactFactory(name="Ana's client", wallet=agent_wallet)
    ContactFactory(name="Nobody's client", wallet=None)
    assert names(agent_client.get(LIST)) == ["Ana's client"]


def test_agent_cannot_find_another_wallets_contact_by_search(agent_client, other_wallet):
    ContactFactory(name="Secret Client", number="5511912345678", wallet=other_wallet)
    assert names(agent_client.get(LIST, {"q": "Secret"})) == []
    assert names(agent_client.get(LIST, {"q": "912345678"})) == []


def test_the_page_shows_every_column_of_a_contact(admin_client, agent_wallet):
    tag = TagFactory(name="VIP", color="#d63384")
    ContactFactory(
        name="João da Silva", number="5511987654321", email="joao@exemplo.com.br",
        telegram_id="123456789", wallet=agent_wallet, tags=[tag],
    )
    html = admin_client.get(LIST).content.decode()
    for text in ["João da Silva", "+55 11 98765-4321", "Carteira Ana", "123456789", "joao@exemplo.com.br", "VIP", "JS"]:
        assert text in html


@pytest.mark.parametrize("query", ["joao", "JOÃO", "silva", "joão da s"])
def test_search_by_name_ignores_case_and_accents(admin_client, query):
    ContactFactory(name="João da Silva")
    ContactFactory(name="Maria Souza")
    assert names(admin_client.get(LIST, {"q": query})) == ["João da Silva"]


@pytest.mark.parametrize(
    "query", ["98765", "(11) 98765-4321", "+55 11 8765-4321", "+55 11 98765-4321", "5511987654321", "4321"]
)
def test_search_by_phone_finds_any_part_in_any_formatting(admin_client, query):
    ContactFactory(name="João", number="5511987654321")
    ContactFactory(name="Maria", number="5521912340000")
    assert names(admin_client.get(LIST, {"q": query})) == ["João"]


@pytest.mark.parametrize("query", ["joao@exemplo", "JOAO@EXEMPLO.COM.BR"])
def test_search_by_email(admin_client, query):
    ContactFactory(name="João", email="joao@exemplo.com.br")
    ContactFactory(name="Maria", email="maria@exemplo.com.br")
    assert names(admin_client.get(LIST, {"q": query})) == ["João"]


def test_search_by_email_also_finds_an_address_kept_in_an_extra_field(admin_client):
    contact = ContactFactory(name="João", email="joao@exemplo.com.br")
    contact.custom_fields.create(name="E-mail do financeiro", value="Financeiro@Padaria.com.br")
    contact.save()  # refreshes the search text from the stored extra fields
    ContactFactory(name="Maria", email="maria@exemplo.com.br")
    assert names(admin_client.get(LIST, {"q": "financeiro@padaria"})) == ["João"]


@pytest.mark.parametrize("query", ["529.982.247-25", "52998224725"])
def test_search_by_cpf_with_or_without_punctuation(admin_client, query):
    ContactFactory(name="João", cpf_cnpj="529.982.247-25")
    ContactFactory(name="Maria", cpf_cnpj="")
    assert names(admin_client.get(LIST, {"q": query})) == ["João"]


def test_search_by_company(admin_client):
    ContactFactory(name="João", company="Padaria Pão Quente")
    ContactFactory(name="Maria")
    assert names(admin_client.get(LIST, {"q": "padaria pao"})) == ["João"]


def test_a_text_search_never_matches_phone_digits(admin_client):
    ContactFactory(name="Ana 2000", number="5511987654321")
    assert names(admin_client.get(LIST, {"q": "ana"})) == ["Ana 2000"]
    assert names(admin_client.get(LIST, {"q": "987"})) == ["Ana 2000"]
    assert names(admin_client.get(LIST, {"q": "ana 987"})) == []


def test_filter_by_wallet_and_by_no_wallet(admin_client, agent_wallet, other_wallet):
    ContactFactory(name="A", wallet=agent_wallet)
    ContactFactory(name="B", wallet=other_wallet)
    ContactFactory(name="C", wallet=None)
    assert names(admin_client.get(LIST, {"wallet": agent_wallet.pk})) == ["A"]
    assert names(admin_client.get(LIST, {"wallet": "none"})) == ["C"]


def test_filter_by_one_or_several_tags_finds_contacts_with_any_of_them(admin_client):
    vip, lead, other = TagFactory(name="VIP"), TagFactory(name="Lead"), TagFactory(name="Outro")
    ContactFactory(name="A", tags=[vip])
    ContactFactory(name="B", tags=[lead, vip])
    ContactFactory(name="C", tags=[other])
    assert names(admin_client.get(LIST, {"tag": [vip.pk]})) == ["A", "B"]
    assert names(admin_client.get(LIST, {"tag": [lead.pk, other.pk]})) == ["B", "C"]


def test_filter_by_type_and_combined_with_search(admin_client, agent_wallet):
    ContactFactory(name="Grupo Vendas", is_group=True, number="120363025246125888")
    ContactFactory(name="Vendas Maria", wallet=agent_wallet)
    ContactFactory(name="João")
    assert names(admin_client.get(LIST, {"type": "groups"})) == ["Grupo Vendas"]
    assert names(admin_client.get(LIST, {"type": "people", "q": "vendas"})) == ["Vendas Maria"]
    assert names(admin_client.get(LIST, {"q": "vendas", "wallet": agent_wallet.pk})) == ["Vendas Maria"]


def test_agent_cannot_filter_by_another_agents_wallet(agent_client, agent_wallet, other_wallet):
    ContactFactory(name="B", wallet=other_wallet)
    ContactFactory(name="Mine", wallet=agent_wallet)
    response = agent_client.get(LIST, {"wallet": other_wallet.pk})
    assert response.status_code == 200
    # The wallet is left out with a note; the agent's own list still shows.
    assert names(response) == ["Mine"]
    assert "A carteira do filtro não está disponível" in response.content.decode()


def test_sort_by_name_or_newest(admin_client):
    for name in ["Carla", "Álvaro", "bruno"]:
        ContactFactory(name=name)
    assert names(admin_client.get(LIST)) == ["Álvaro", "bruno", "Carla"]
    assert names(admin_client.get(LIST, {"sort": "newest"})) == ["bruno", "Álvaro", "Carla"]


def test_pagination_and_page_size(admin_client):
    ContactFactory.create_batch(60)
    response = admin_client.get(LIST)
    assert len(names(response)) == 25
    response = admin_client.get(LIST, {"per_page": 50, "page": 2})
    assert len(names(response)) == 10
    assert response.context["page_obj"].number == 2


@pytest.mark.parametrize("params", [{"page": "abc"}, {"page": "999"}, {"per_page": "7"}, {"tag": "x"}, {"wallet": "x"}, {"sort": "x"}])
def test_garbled_parameters_never_give_an_error_page(admin_client, params):
    ContactFactory(name="A")
    assert admin_client.get(LIST, params).status_code == 200


@override_settings(CONTACTS_COUNT_CAP=5)
def test_beyond_the_cap_the_count_is_shown_as_a_lower_bound(admin_client):
    ContactFactory.create_batch(8)
    response = admin_client.get(LIST, {"per_page": 25})
    assert "5+ contatos" in response.content.decode()
    assert len(names(response)) == 5
    response = admin_client.get(LIST, {"q": names(response)[0]})
    assert "+ contatos" not in response.content.decode()


def test_the_two_empty_states_differ(admin_client):
    response = admin_client.get(LIST)
    assert "Nenhum contato ainda" in response.content.decode()
    ContactFactory(name="João")
    response = admin_client.get(LIST, {"q": "zzz"})
    assert "Nenhum contato corresponde à busca" in response.content.decode()


def test_htmx_search_returns_only_the_results_fragment(admin_client):
    ContactFactory(name="João")
    response = admin_client.get(LIST, {"q": "jo"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "João" in html
    assert "<html" not in html and 'id="contact-filters"' not in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(admin_client):
    response = admin_client.get(LIST, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


@pytest.mark.parametrize("page_size", [25, 100])
def test_the_list_issues_a_constant_number_of_queries(admin_client, django_assert_num_queries, page_size):
    tags = TagFactory.create_batch(3)
    for _ in range(100):
        ContactFactory(tags=tags)
    # session, user, one for permissions (accounts.backends), capped count, the page of contacts,
    # their tags' links, the wallet filter's choices, the tags (the tag
    # filter's choices and their colours), the saved segments' chips, and
    # their opt-outs
    with django_assert_num_queries(10):
        response = admin_client.get(LIST, {"per_page": page_size})
    assert len(names(response)) == page_size
    # Contacts without a number: their identities, to tell those known by
    # a LID alone, in one more.
    for _ in range(100):
        ContactFactory(number="", tags=tags)
    with django_assert_num_queries(11):
        response = admin_client.get(LIST, {"per_page": page_size, "sort": "newest"})
    assert len(names(response)) == page_size


def test_the_panel_speaks_portuguese_by_default_and_english_on_request(admin_client):
    assert "Adicionar" in admin_client.get(LIST).content.decode()
    admin_client.cookies["django_language"] = "en"
    assert "Add" in admin_client.get(LIST).content.decode()


def test_search_with_several_words_needs_each_of_them_anywhere(admin_client):
    ContactFactory(name="João da Silva")
    ContactFactory(name="João Pereira")
    ContactFactory(name="Maria Silva", company="João Transportes")
    assert names(admin_client.get(LIST, {"q": "joao silva"})) == ["João da Silva", "Maria Silva"]
    assert names(admin_client.get(LIST, {"q": "silva joao"})) == ["João da Silva", "Maria Silva"]


@pytest.mark.parametrize("query", ["529.982", "529.982.247", "11.222.333/0001"])
def test_search_by_the_start_of_a_punctuated_cpf_or_cnpj(admin_client, query):
    ContactFactory(name="Pessoa", cpf_cnpj="529.982.247-25")
    ContactFactory(name="Empresa", cpf_cnpj="11.222.333/0001-81")
    expected = "Pessoa" if query.startswith("529") else "Empresa"
    assert names(admin_client.get(LIST, {"q": query})) == [expected]


def test_search_by_an_alphanumeric_cnpj(admin_client):
    ContactFactory(name="Empresa Nova", cpf_cnpj="12.ABC.345/01DE-35")
    assert names(admin_client.get(LIST, {"q": "12ABC34501DE35"})) == ["Empresa Nova"]


def test_htmx_results_update_the_tag_filter_label_out_of_band(admin_client):
    vip = TagFactory(name="VIP")
    html = admin_client.get(LIST, {"tag": [vip.pk]}, headers={"HX-Request": "true"}).content.decode()
    assert 'id="tag-filter-summary"' in html and 'hx-swap-oob="true"' in html
    assert "Etiquetas (1)" in html
    page = admin_client.get(LIST, {"tag": [vip.pk]}).content.decode()
    assert page.count('id="tag-filter-summary"') == 1


def test_no_wallet_is_offered_as_a_filter_unless_strict(agent_client, settings):
    assert "Sem carteira" in agent_client.get(LIST).content.decode()
    settings.CONTACTS_STRICT_WALLETS = True
    assert "Sem carteira" not in agent_client.get(LIST).content.decode()


def test_a_name_search_lists_names_starting_with_it_first(admin_client):
    for name in ["Ana Maria Souza", "Maria Lima", "Bruno Mariano", "Mariana Alves", "Zélia Maria"]:
        ContactFactory(name=name)
    assert names(admin_client.get(LIST, {"q": "maria"})) == [
        "Maria Lima", "Mariana Alves", "Ana Maria Souza", "Bruno Mariano", "Zélia Maria",
    ]
    # Newest first stays newest first.
    assert names(admin_client.get(LIST, {"q": "maria", "sort": "newest"})) == [
        "Zélia Maria", "Mariana Alves", "Bruno Mariano", "Maria Lima", "Ana Maria Souza",
    ]


def test_names_sort_the_same_on_every_database(admin_client):
    for name in ["Anabela", "Ana Beatriz", "Ana", "Ângela", "ana clara"]:
        ContactFactory(name=name)
    assert names(admin_client.get(LIST)) == ["Ana", "Ana Beatriz", "ana clara", "Anabela", "Ângela"]


@pytest.mark.parametrize("name", ["contacts:update", "contacts:delete", "contacts:photo", "contacts:history"])
@pytest.mark.parametrize("prefix", ["/", "/portal/"])
def test_row_urls_are_the_urls_reverse_gives(name, prefix):
    from django.urls import set_script_prefix

    from contacts.templatetags.contacts_urls import row_url

    set_script_prefix(prefix)
    try:
        for pk in (1, 42, 2**62):
            assert row_url(name, pk) == reverse(name, args=[pk])
    finally:
        set_script_prefix("/")


def test_contacts_named_only_by_their_number_sort_after_the_named_ones(admin_client):
    ContactFactory(name="+55 11 98765-4321", number="5511987654321")
    ContactFactory(name="Zuleica", number="5511987650002")
    ContactFactory(name="120363025246125888", number="120363025246125888", is_group=True)
    ContactFactory(name="Ana", number="5511987650003")
    ContactFactory(name="3M do Brasil", number="5511987650004")

    response = admin_client.get(LIST, {"sort": "name"})

    names = [contact.name for contact in response.context["page_obj"].object_list]
    assert names == ["3M do Brasil", "Ana", "Zuleica", "+55 11 98765-4321", "120363025246125888"]


def test_a_contact_named_only_by_its_number_has_a_neutral_avatar_not_digits(admin_client):
    numbered = ContactFactory(name="+55 11 98765-4321", number="5511987654321")
    named = ContactFactory(name="Ana Souza", number="5511987650003")

    page = admin_client.get(LIST).content.decode()

    row = page.split(f'id="contact-{numbered.pk}"')[1].split("</tr>")[0]
    assert "app-avatar-neutral" in row and ">+5<" not in row and ">55<" not in row
    named_row = page.split(f'id="contact-{named.pk}"')[1].split("</tr>")[0]
    assert ">AS</span>" in named_row


def test_an_old_8_digit_number_is_formatted_like_the_others(admin_client):
    ContactFactory(name="Seu Zé", number="551187654321")

    page = admin_client.get(LIST).content.decode()

    assert "+55 11 8765-4321" in page
    assert "+55 1187654321" not in page


def test_the_number_names_migration_moves_saved_contacts_after_the_named_ones(db):
    import importlib

    from django.apps import apps

    from contacts.models import Contact

    numbered = ContactFactory(name="+55 11 98765-4321", number="5511987654321")
    Contact.objects.filter(pk=numbered.pk).update(name_key="+55 11 98765-4321")  # as saved before
    migration = importlib.import_module("contacts.migrations.0017_number_names_sort_last")

    migration.move(apps, True)

    assert Contact.objects.get(pk=numbered.pk).name_key == "~+55 11 98765-4321"
