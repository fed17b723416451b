"""The hot paths' written-out statements store and read exactly what the ORM does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from formation_hub.hot_sql import (
    delete_where,
    first_where,
    insert_instances,
    insert_rows,
    update_by_pk,
    update_instance,
)
from sync.models import PageCreation, PageLink

pytestmark = pytest.mark.django_db


def test_an_inserted_instance_reads_back_as_the_orm_stores_it_with_its_stamps():
    before = timezone.now()
    link = PageLink(baserow_table_id=601, row_id=7, logical_table="projet", page_id="p-7",
                    synced_state={"title": "Projet « Été » & co", "icon": "🚧"})
    insert_instances([link])

    stored = PageLink.objects.get(pk=link.pk)
    assert stored.synced_state == {"title": "Projet « Été » & co", "icon": "🚧"}
    assert stored.page_slug_id == ""  # the field's default
    assert before <= stored.created_at == link.created_at
    assert before <= stored.updated_at == link.updated_at
    assert not link._state.adding


def test_rows_go_in_one_statement_with_their_ids_in_order(django_assert_num_queries):
    with django_assert_num_queries(1):
        ids = insert_rows(PageCreation, [
            {"baserow_table_id": 601, "row_id": row_id, "started_at": timezone.now()} for row_id in (1, 2, 3)
        ])
    assert [PageCreation.objects.get(pk=pk).row_id for pk in ids] == [1, 2, 3]


def test_a_row_already_there_is_skipped_when_asked_and_no_id_comes_back():
    row = {"baserow_table_id": 601, "row_id": 1, "started_at": timezone.now()}
    assert len(insert_rows(PageCreation, [dict(row)], on_conflict_nothing=True)) == 1
    assert insert_rows(PageCreation, [dict(row)], on_conflict_nothing=True) == []
    assert PageCreation.objects.count() == 1


def test_first_where_finds_the_row_with_every_value_converted():
    link = PageLink.objects.create(baserow_table_id=601, row_id=9, logical_table="projet", page_id="p-9",
                                   synced_state={"title": "T"}, archived_at=timezone.now())
    found = first_where(PageLink, baserow_table_id=601, row_id=9)
    assert (found.pk, found.synced_state, found.archived_at, found.created_at) == (
        link.pk, {"title": "T"}, link.archived_at, link.created_at
    )
    assert first_where(PageLink, baserow_table_id=601, row_id=10) is None


def test_update_instance_writes_only_the_named_fields_and_stamps_auto_now():
    link = PageLink.objects.create(baserow_table_id=601, row_id=9, logical_table="projet", page_id="p-9")
    PageLink.objects.filter(pk=link.pk).update(page_slug_id="changed-elsewhere")
    link.synced_state, link.page_slug_id = {"title": "New"}, "not-saved"
    link.updated_at -= timedelta(hours=1)

    assert update_instance(link, ("synced_state", "updated_at")) == 1
    stored = PageLink.objects.get(pk=link.pk)
    assert stored.synced_state == {"title": "New"}
    assert stored.page_slug_id == "changed-elsewhere"
    assert stored.updated_at == link.updated_at > timezone.now() - timedelta(minutes=1)


def test_update_by_pk_holds_only_under_its_condition_and_returns_what_is_asked():
    link = PageLink.objects.create(baserow_table_id=601, row_id=9, logical_table="projet", page_id="p-9")
    assert update_by_pk(PageLink, link.pk, {"page_id": "p-x"}, condition="row_id = %s", condition_params=(8,)) == 0
    assert update_by_pk(PageLink, link.pk, {"page_id": "p-y"}, condition="row_id = %s", condition_params=(9,),
                        returning="page_id") == ("p-y",)
    assert PageLink.objects.get(pk=link.pk).page_id == "p-y"


def test_delete_where_removes_only_the_matching_rows():
    for row_id in (1, 2):
        PageCreation.objects.create(baserow_table_id=601, row_id=row_id, started_at=timezone.now())
    assert delete_where(PageCreation, baserow_table_id=601, row_id=1) == 1
    assert list(PageCreation.objects.values_list("row_id", flat=True)) == [2]
