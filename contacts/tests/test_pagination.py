import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from contacts import pagination
from contacts.models import Contact
from contacts.pagination import ContactPaginator
from contacts.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bunched_matches():
    """Matches that bunch up at the end of the name order, and one early."""
    for i in range(30):
        ContactFactory(name=f"Ana Souza {i:02d}")
    ContactFactory(name="Bruno Maria")
    ContactFactory(name="Zeca Mariano")
    for i in range(12):
        ContactFactory(name=f"Maria Lima {i:02d}")


def pages(paginator):
    return [[c.name for c in paginator.page(n).object_list] for n in paginator.page_range]


@pytest.mark.parametrize("cap, window", [(3, 8), (3, 1000), (1000, 8), (5, 40), (12, 40)])
@pytest.mark.parametrize("prefix", ["", "maria"])
def test_every_page_of_a_search_is_the_same_whichever_way_it_is_fetched(bunched_matches, monkeypatch, cap, window, prefix):
    monkeypatch.setattr(pagination, "SEARCH_WINDOW", window)
    unsearched = Contact.objects.order_by("name_key", "id")
    searched = unsearched.search("maria")
    expected = [c.name for c in searched]
    if prefix:  # names starting with the word first, each part in list order
        expected = [n for n in expected if n.startswith("Maria")] + [n for n in expected if not n.startswith("Maria")]
    with override_settings(CONTACTS_COUNT_CAP=cap):
        parts = pagination.name_search_parts(unsearched, searched, "maria") if prefix else None
        paginator = ContactPaginator(searched, 2, unsearched=unsearched, parts=parts)
        flat = [name for page in pages(paginator) for name in page]
    assert flat == expected[: min(cap, len(expected))]


def test_a_newest_first_search_keeps_its_order(bunched_matches):
    unsearched = Contact.objects.order_by("-created_at", "-id")
    searched = unsearched.search("souza")
    paginator = ContactPaginator(searched, 7, unsearched=unsearched)
    flat = [name for page in pages(paginator) for name in page]
    assert flat == [c.name for c in searched]


def test_the_default_model_order_is_kept_when_sorting_without_index(bunched_matches):
    searched = Contact.objects.search("maria")
    assert [c.name for c in pagination.sort_without_index(searched)] == [c.name for c in searched]


@pytest.mark.parametrize("query", ["maria lima", "maria 03", "souza", "bruno maria", "lima maria"])
def test_name_parts_hold_exactly_the_search_results(bunched_matches, query):
    unsearched = Contact.objects.order_by("name_key", "id")
    searched = unsearched.search(query)
    parts = pagination.name_search_parts(unsearched, searched, query)
    listed = [c.pk for queryset, _ in parts for c in queryset]
    assert sorted(listed) == sorted(c.pk for c in searched)
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize("cap", [3, 5, 13, 1000])
@pytest.mark.parametrize("query", ["maria lima", "lima maria", "ana souza", "souza 1", "maria mariano"])
def test_a_search_of_several_words_lists_the_same_pages_whether_its_parts_are_found_at_once_or_one_by_one(bunched_matches, cap, query):
    ContactFactory(name="Ana Maria Lima")
    ContactFactory(name="Lima Maria Ávila")
    unsearched = Contact.objects.order_by("name_key", "id")
    searched = unsearched.search(query)
    first = query.split()[0]
    expected = [c.name for c in searched if c.name_key.startswith(first)] + [c.name for c in searched if not c.name_key.startswith(first)]
    assert pagination.name_search_first_word(query) == first
    listed = {}
    with override_settings(CONTACTS_COUNT_CAP=cap):
        for first_word in (first, None):
            parts = pagination.name_search_parts(unsearched, searched, query)
            paginator = ContactPaginator(searched, 2, unsearched=unsearched, parts=parts, first_word=first_word)
            listed[first_word] = [name for page in pages(paginator) for name in page]
            assert paginator.is_capped == (len(expected) > cap)
    assert listed[first] == listed[None] == expected[:cap]


@pytest.mark.parametrize("query", ["maria", "", "joao@example.com", "11 98765", "~55 maria"])
def test_only_a_name_search_of_several_words_is_split_by_its_first_word(query):
    assert pagination.name_search_first_word(query) is None


@pytest.mark.parametrize("window", [8, 40, 1000])
@pytest.mark.parametrize("order", [("name_key", "id"), ("-created_at", "-id")])
@pytest.mark.parametrize("query", ["maria lima", "lima maria", "ana souza 1", "souza"])
def test_a_search_of_several_words_lists_the_same_pages_when_its_window_asks_the_index_for_one_word(
    bunched_matches, monkeypatch, window, order, query
):
    ContactFactory(name="Ana Maria Lima")
    ContactFactory(name="Lima Maria Ávila")
    monkeypatch.setattr(pagination, "SEARCH_WINDOW", window)
    unsearched = Contact.objects.order_by(*order)
    searched = unsearched.search(query)
    listed = {}
    with override_settings(CONTACTS_COUNT_CAP=3):
        for words in (query.split(), None):
            parts = pagination.name_search_parts(unsearched, searched, query) if order[0] == "name_key" else None
            paginator = ContactPaginator(searched, 1, unsearched=unsearched, parts=parts, words=words)
            listed[bool(words)] = [name for page in pages(paginator) for name in page]
    assert listed[True] == listed[False]
    assert len(listed[True]) == min(3, searched.count())


@pytest.mark.parametrize("cap", [3, 5, 1000])
@pytest.mark.parametrize("query", ["maria", "lima", "maria lima", "lima maria", "souza"])
def test_a_page_the_window_does_not_hold_is_read_up_to_the_matches_the_count_found(bunched_matches, monkeypatch, cap, query):
    # The first twenty names are Ana Souza's: a window that short holds no
    # "maria" or "lima", and the count's matches bound the page instead.
    monkeypatch.setattr(pagination, "SEARCH_WINDOW", 20)
    bounded = []
    read_up_to = ContactPaginator._ids_up_to
    monkeypatch.setattr(ContactPaginator, "_ids_up_to", lambda *args: bounded.append(read_up_to(*args)) or bounded[-1])
    unsearched = Contact.objects.order_by("name_key", "id")
    searched = unsearched.search(query)
    first = query.split()[0]
    expected = [c.name for c in searched if c.name_key.startswith(first)] + [c.name for c in searched if not c.name_key.startswith(first)]
    with override_settings(CONTACTS_COUNT_CAP=cap):
        parts = pagination.name_search_parts(unsearched, searched, query)
        paginator = ContactPaginator(
            searched, 1, unsearched=unsearched, parts=parts, first_word=pagination.name_search_first_word(query), words=query.split()
        )
        listed = [name for page in pages(paginator) for name in page]
    assert listed == expected[:cap]
    # Only the Maria Limas, after the window, are a part with more matches than the cap.
    assert bool(bounded) == (query in ("lima", "lima maria") and cap < len(expected))


def test_a_page_of_names_starting_with_the_word_is_read_by_id_without_the_name_range(bunched_matches):
    unsearched = Contact.objects.order_by("name_key", "id")
    searched = unsearched.search("maria")
    with override_settings(CONTACTS_COUNT_CAP=3), CaptureQueriesContext(connection) as queries:
        paginator = ContactPaginator(searched, 2, unsearched=unsearched, parts=pagination.name_search_parts(unsearched, searched, "maria"))
        assert [c.name for c in paginator.page(1).object_list] == ["Maria Lima 00", "Maria Lima 01"]
    by_id = [query["sql"] for query in queries.captured_queries if '"id" IN (' in query["sql"]]
    assert by_id and not any('"name_key" >=' in sql for sql in by_id)


def test_a_wallet_and_a_tag_are_counted_from_the_wallet_s_index_with_the_ids_in_order():
    from django.db import transaction

    from contacts.tests.factories import TagFactory, WalletFactory

    wallet, tag = WalletFactory(), TagFactory()
    ContactFactory(name="Ana", wallet=wallet).tags.add(tag)
    # What ContactPaginator.count asks of a filtered list.
    counted = Contact.objects.filter(wallet=wallet).with_any_tag([tag]).order_by().values_list("pk", "name_key", "id")[:1001]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # a tiny table: make the planner show whether it could use the index
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = counted.explain()
    assert "contact_wallet_idx" in plan
    if connection.vendor == "postgresql":
        assert "Index Only Scan using contact_wallet_idx" in plan
