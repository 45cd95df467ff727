"""Saved segments: a search with its filters under a name, for oneself or
shared with the team (administrators), as chips above the list; the list,
the export and ContactFilter.for_user (the bulk actions) take it; a segment
whose tag or wallet was deleted says so and shows nobody rather than more."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from contacts.filters import ContactFilter
from contacts.models import Segment
from contacts.tests.factories import ContactFactory, TagFactory, WalletFactory
from jobs.models import Job

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")
CREATE = reverse("contacts:segment_create")
SEGMENTS = reverse("contacts:segments")


def names(response):
    return sorted(contact.name for contact in response.context["page_obj"].object_list)


def save(client, query: str, name: str, **fields):
    return client.post(f"{CREATE}?{query}", {"name": name, **fields})


@pytest.fixture
def vip():
    return TagFactory(name="VIP")


@pytest.fixture
def people(agent_wallet, other_wallet, vip):
    """Maria (VIP) and Mário in Ana's wallet, Marta (VIP) in Bruno's, Zeca (VIP) in none."""
    return {
        "Maria": ContactFactory(name="Maria", wallet=agent_wallet, tags=[vip]),
        "Mário": ContactFactory(name="Mário", wallet=agent_wallet),
        "Marta": ContactFactory(name="Marta", wallet=other_wallet, tags=[vip]),
        "Zeca": ContactFactory(name="Zeca", wallet=None, tags=[vip]),
    }


def test_a_search_with_its_filters_is_saved_under_a_name_and_the_list_takes_it(admin_client, admin_user, people, vip):
    response = save(admin_client, f"q=mar&tag={vip.pk}&sort=newest&per_page=50", "VIP Mar")
    segment = Segment.objects.get()
    assert response.status_code == 302 and response.url == f"{LIST}?segment={segment.pk}"
    assert (segment.owner, segment.shared, segment.filters) == (admin_user, False, {"q": "mar", "tag": [str(vip.pk)]})
    assert segment.labels == {"tag": {str(vip.pk): "VIP"}}
    page = admin_client.get(LIST, {"segment": segment.pk})
    assert names(page) == ["Maria", "Marta"]
    html = page.content.decode()
    assert 'aria-current="true"' in html and "VIP Mar" in html
    assert "Busca: mar · Etiqueta: VIP" in html  # what the segment's chip stands for


def test_saving_without_a_search_or_a_filter_is_refused_and_saves_nothing(admin_client, people):
    response = save(admin_client, "sort=newest", "Todos")
    assert response.status_code == 200
    assert "Pesquise ou escolha um filtro primeiro" in response.content.decode()
    assert not Segment.objects.exists()


def test_a_name_already_used_by_the_same_person_is_refused(admin_client, people, vip):
    save(admin_client, "q=mar", "Clientes")
    response = save(admin_client, f"tag={vip.pk}", " clientes ")
    assert "Você já tem um segmento chamado “clientes”." in response.content.decode()
    assert Segment.objects.count() == 1


def test_the_save_form_is_a_popup_for_htmx_and_a_page_without_javascript(admin_client, people):
    popup = admin_client.get(CREATE, {"q": "mar"}, headers={"HX-Request": "true"})
    page = admin_client.get(CREATE, {"q": "mar"})
    assert 'class="app-modal-header"' in popup.content.decode() and "<html" not in popup.content.decode()
    assert "<html" in page.content.decode()
    for response in (popup, page):
        assert f'action="{CREATE}?q=mar"' in response.content.decode()
        assert "Busca:</span> mar" in response.content.decode()
    saved = admin_client.post(f"{CREATE}?q=mar", {"name": "Mar"}, headers={"HX-Request": "true"})
    assert saved.status_code == 204 and saved["HX-Redirect"] == Segment.objects.get().get_absolute_url()


def test_only_administrators_may_share_a_segment(client, agent, admin_user, people):
    client.force_login(agent)
    assert "Compartilhar com a equipe" not in client.get(CREATE, {"q": "mar"}).content.decode()
    save(client, "q=mar", "Minha busca", shared="on")
    assert Segment.objects.get(name="Minha busca").shared is False
    client.force_login(admin_user)
    assert "Compartilhar com a equipe" in client.get(CREATE, {"q": "mar"}).content.decode()
    save(client, "q=mar", "Da equipe", shared="on")
    assert Segment.objects.get(name="Da equipe").shared is True


def test_an_agent_sees_their_own_and_the_shared_segments_not_another_agents(client, agent, other_agent, admin_user, people):
    Segment.objects.create(name="Da Ana", owner=agent, filters={"q": "mar"})
    Segment.objects.create(name="Do Bruno", owner=other_agent, filters={"q": "mar"})
    Segment.objects.create(name="Da equipe", owner=admin_user, shared=True, filters={"q": "mar"})
    Segment.objects.create(name="Da Alice", owner=admin_user, filters={"q": "mar"})
    client.force_login(agent)
    assert [s.name for s in client.get(LIST).context["segments"]] == ["Da Ana", "Da equipe"]
    assert [row[0].name for row in client.get(SEGMENTS).context["rows"]] == ["Da Ana", "Da equipe"]


def test_an_agents_segment_never_shows_contacts_outside_their_wallets(client, agent, admin_user, people, vip):
    client.force_login(agent)
    save(client, f"tag={vip.pk}", "VIP")
    mine = Segment.objects.get(owner=agent)
    assert names(client.get(LIST, {"segment": mine.pk})) == ["Maria", "Zeca"]
    shared = Segment.objects.create(name="VIP da equipe", owner=admin_user, shared=True, filters={"tag": [str(vip.pk)]})
    assert names(client.get(LIST, {"segment": shared.pk})) == ["Maria", "Zeca"]
    # Through the entry point the bulk actions use, too.
    assert sorted(c.name for c in ContactFilter.for_user(agent, {"segment": shared.pk}).qs) == ["Maria", "Zeca"]


def test_another_agents_private_segment_shows_nothing_and_is_not_named(client, agent, other_agent, people):
    theirs = Segment.objects.create(name="Segredo do Bruno", owner=other_agent, filters={"q": "mar"})
    client.force_login(agent)
    for value in (theirs.pk, "999999", "abc", "1" * 30):
        response = client.get(LIST, {"segment": value})
        html = response.content.decode()
        assert names(response) == []
        assert "Este segmento não existe ou não foi compartilhado com você" in html
        assert "Segredo do Bruno" not in html


def test_a_shared_segment_about_another_agents_wallet_shows_an_agent_nothing_and_says_why(client, agent, admin_user, other_wallet, people):
    shared = Segment.objects.create(
        name="Carteira do Bruno", owner=admin_user, shared=True, filters={"wallet": str(other_wallet.pk)}, labels={"wallet": other_wallet.name}
    )
    client.force_login(agent)
    response = client.get(LIST, {"segment": shared.pk})
    assert names(response) == []
    assert "é sobre a carteira “Carteira Bruno”, que não é sua" in response.content.decode()


def test_in_strict_mode_a_shared_segment_of_the_contacts_without_a_wallet_shows_an_agent_nothing(client, agent, admin_user, people, settings):
    settings.CONTACTS_STRICT_WALLETS = True
    shared = Segment.objects.create(name="Avulsos", owner=admin_user, shared=True, filters={"wallet": "none"})
    client.force_login(admin_user)
    assert names(client.get(LIST, {"segment": shared.pk})) == ["Zeca"]
    client.force_login(agent)
    response = client.get(LIST, {"segment": shared.pk})
    assert names(response) == []
    assert "é sobre os contatos sem carteira, que você não vê" in response.content.decode()


def test_a_segment_whose_tag_was_deleted_says_so_and_shows_no_contacts(admin_client, people, vip):
    gold = TagFactory(name="Ouro")
    save(admin_client, f"tag={vip.pk}&tag={gold.pk}", "Premium")
    segment = Segment.objects.get()
    gold.delete()
    response = admin_client.get(LIST, {"segment": segment.pk})
    html = response.content.decode()
    assert names(response) == []  # not every VIP, and certainly not everybody
    assert "A etiqueta “Ouro” do segmento “Premium” foi excluída" in html
    assert "Este segmento não mostra contatos" in html
    # The list's own stale-tag note (which leaves the tag out) is not what happens here.
    assert "foi retirada" not in html


def test_a_segment_whose_wallet_was_deleted_says_so_and_shows_no_contacts(admin_client, admin_user, people):
    empty = WalletFactory(name="Carteira Sul", user=admin_user)
    save(admin_client, f"wallet={empty.pk}", "Sul")
    segment = Segment.objects.get()
    empty.delete()
    response = admin_client.get(LIST, {"segment": segment.pk})
    assert names(response) == []
    assert "A carteira “Carteira Sul” do segmento “Sul” foi excluída" in response.content.decode()


def test_a_segment_follows_a_renamed_tag(admin_client, people, vip):
    save(admin_client, f"tag={vip.pk}", "VIP")
    vip.name = "Muito importante"
    vip.save()
    response = admin_client.get(LIST, {"segment": Segment.objects.get().pk})
    assert names(response) == ["Maria", "Marta", "Zeca"]
    assert "Etiqueta: Muito importante" in response.content.decode()


def test_the_lists_own_filters_narrow_a_segment_further(admin_client, agent_wallet, people, vip):
    save(admin_client, f"tag={vip.pk}", "VIP")
    segment = Segment.objects.get()
    assert names(admin_client.get(LIST, {"segment": segment.pk, "wallet": agent_wallet.pk})) == ["Maria"]
    assert names(admin_client.get(LIST, {"segment": segment.pk, "q": "zec"})) == ["Zeca"]
    save(admin_client, "q=mar", "Mar")
    mar = Segment.objects.get(name="Mar")
    # A search on top of a segment's search: both apply.
    assert names(admin_client.get(LIST, {"segment": mar.pk, "q": "ria"})) == ["Maria"]


def test_saving_on_top_of_a_segment_keeps_both_unless_they_name_the_same_filter(admin_client, agent_wallet, people, vip):
    save(admin_client, f"tag={vip.pk}", "VIP")
    base = Segment.objects.get()
    save(admin_client, f"segment={base.pk}&wallet={agent_wallet.pk}", "VIP da Ana")
    assert Segment.objects.get(name="VIP da Ana").filters == {"wallet": str(agent_wallet.pk), "tag": [str(vip.pk)]}
    response = save(admin_client, f"segment={base.pk}&tag={TagFactory().pk}", "Outra")
    assert "que também filtra por ela: retire um dos dois" in response.content.decode()
    assert not Segment.objects.filter(name="Outra").exists()


def test_the_birthday_filter_is_usable_in_a_segment(admin_client, monkeypatch, people):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2026, 12, 29))
    ContactFactory(name="Ano Novo", birth_date=date(1990, 1, 2))
    ContactFactory(name="Fevereiro", birth_date=date(1990, 2, 2))
    save(admin_client, "birthday=week", "Aniversariantes")
    segment = Segment.objects.get()
    assert segment.filters == {"birthday": "week"}
    assert names(admin_client.get(LIST, {"segment": segment.pk})) == ["Ano Novo"]


def test_the_export_takes_the_segment(admin_client, people, vip, django_capture_on_commit_callbacks):
    save(admin_client, f"q=mar&tag={vip.pk}", "VIP Mar")
    segment = Segment.objects.get()
    assert "Segmento:</span> VIP Mar (Busca: mar · Etiqueta: VIP)" in admin_client.get(reverse("contacts:export"), {"segment": segment.pk}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("contacts:export") + f"?segment={segment.pk}", {"format": "xlsx"})
    job = Job.objects.get()
    download = admin_client.get(reverse("jobs:file", args=[job.token, "result"]))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(download.streaming_content))).get_sheet_by_index(0).to_python()
    assert [row[0] for row in rows[1:]] == ["Maria", "Marta"]


def test_a_segment_that_no_longer_applies_is_not_exported(admin_client, people, vip):
    gold = TagFactory(name="Ouro")
    save(admin_client, f"tag={gold.pk}", "Ouro")
    gold.delete()
    url = reverse("contacts:export") + f"?segment={Segment.objects.get().pk}"
    response = admin_client.post(url, {"format": "xlsx"})
    assert response.status_code == 200 and "foi excluída" in response.content.decode()
    assert not Job.objects.exists()


def test_the_export_command_takes_a_segment_by_name_as_its_owner_sees_it(tmp_path, agent, admin_user, people, vip, capsys):
    Segment.objects.create(name="VIP da Ana", owner=agent, filters={"tag": [str(vip.pk)]})
    call_command("export_contacts", str(tmp_path / "ana.csv"), "--segment", "vip da ana")
    assert "Exported 2 contacts" in capsys.readouterr().out  # Maria and Zeca: not Bruno's Marta
    Segment.objects.create(name="VIP", owner=admin_user, shared=True, filters={"tag": [str(vip.pk)]})
    call_command("export_contacts", str(tmp_path / "todos.csv"), "--segment", "VIP", "--q", "mar")
    assert "Exported 2 contacts" in capsys.readouterr().out  # Maria and Marta
    with pytest.raises(CommandError, match="no segment named 'Nada'"):
        call_command("export_contacts", str(tmp_path / "x.csv"), "--segment", "Nada")
    vip.delete()
    with pytest.raises(CommandError, match="foi excluída|was deleted"):
        call_command("export_contacts", str(tmp_path / "x.csv"), "--segment", "VIP")


def test_a_segment_is_renamed_and_deleted_by_its_owner_not_by_another_agent(client, agent, other_agent, people):
    segment = Segment.objects.create(name="Da Ana", owner=agent, filters={"q": "mar"})
    client.force_login(other_agent)
    assert client.post(reverse("contacts:segment_update", args=[segment.pk]), {"name": "Meu"}).status_code == 404
    assert client.post(reverse("contacts:segment_delete", args=[segment.pk])).status_code == 404
    client.force_login(agent)
    response = client.post(reverse("contacts:segment_update", args=[segment.pk]), {"name": "Clientes Mar"})
    assert response.status_code == 302 and response.url == SEGMENTS
    segment.refresh_from_db()
    assert (segment.name, segment.filters) == ("Clientes Mar", {"q": "mar"})
    response = client.post(reverse("contacts:segment_delete", args=[segment.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == SEGMENTS
    assert not Segment.objects.exists()


def test_a_shared_segment_is_changed_by_administrators_not_by_agents(client, agent, admin_user, people):
    shared = Segment.objects.create(name="Da equipe", owner=admin_user, shared=True, filters={"q": "mar"})
    client.force_login(agent)
    page = client.get(SEGMENTS).content.decode()
    assert "Da equipe" in page and reverse("contacts:segment_update", args=[shared.pk]) not in page
    assert client.post(reverse("contacts:segment_delete", args=[shared.pk])).status_code == 404
    other_admin = type(admin_user).objects.create(username="carla")
    other_admin.groups.set(admin_user.groups.all())
    client.force_login(other_admin)
    client.post(reverse("contacts:segment_update", args=[shared.pk]), {"name": "Equipe", "shared": ""})
    shared.refresh_from_db()
    assert (shared.name, shared.shared, shared.owner) == ("Equipe", False, admin_user)


def test_the_segments_page_shows_each_segments_filters_or_why_they_no_longer_apply(admin_client, people, vip):
    gold = TagFactory(name="Ouro")
    save(admin_client, f"tag={vip.pk}&q=mar", "VIP Mar")
    save(admin_client, f"tag={gold.pk}", "Ouro")
    gold.delete()
    page = admin_client.get(SEGMENTS).content.decode()
    assert "Busca: mar · Etiqueta: VIP" in page
    assert "A etiqueta “Ouro” do segmento “Ouro” foi excluída" in page


def test_the_segment_chips_come_with_the_list_and_its_htmx_refreshes(admin_client, people, vip):
    save(admin_client, f"tag={vip.pk}", "VIP")
    segment = Segment.objects.get()
    page = admin_client.get(LIST).content.decode()
    assert f'href="{LIST}?segment={segment.pk}"' in page and 'aria-current="true"' not in page
    assert "Salvar como segmento" not in page  # nothing to save without a search or filter
    partial = admin_client.get(LIST, {"segment": segment.pk, "q": "a"}, headers={"HX-Request": "true"}).content.decode()
    assert 'id="segment-chips"' in partial and 'hx-swap-oob="true"' in partial and 'aria-current="true"' in partial
    assert "Salvar como segmento" in partial
    # The segment alone is saved already.
    assert "Salvar como segmento" not in admin_client.get(LIST, {"segment": segment.pk}).content.decode()
    assert f'<input type="hidden" name="segment" value="{segment.pk}">' in admin_client.get(LIST, {"segment": segment.pk}).content.decode()


def test_contact_filter_for_user_takes_the_lists_parameters_for_the_bulk_actions(agent, admin_user, agent_wallet, people, vip):
    shared = Segment.objects.create(name="VIP", owner=admin_user, shared=True, filters={"tag": [str(vip.pk)]})
    found = ContactFilter.for_user(agent, {"segment": str(shared.pk), "q": "mari"})
    assert [c.name for c in found.qs] == ["Maria"]
    gone = ContactFilter.for_user(agent, {"segment": "123456"})
    assert gone.segment_problem and not gone.qs.exists()


def test_the_bulk_actions_take_a_segment_among_the_contacts_the_agent_may_see(client, agent, admin_user, people, vip):
    shared = Segment.objects.create(name="VIP", owner=admin_user, shared=True, filters={"tag": [str(vip.pk)]})
    gold = TagFactory(name="Ouro")
    client.force_login(agent)
    response = client.post(reverse("bulk:start"), {"action": "add_tag", "tag": gold.pk, "all": "on", "query": f"segment={shared.pk}"})
    job = Job.objects.get()
    assert response.status_code == 302 and job.total == 2  # Maria and Zeca; not Bruno's Marta
    vip.delete()  # the segment no longer applies: nobody, rather than everybody
    response = client.post(reverse("bulk:start"), {"action": "add_tag", "tag": gold.pk, "all": "on", "query": f"segment={shared.pk}"})
    assert response.status_code == 200 and Job.objects.count() == 1
