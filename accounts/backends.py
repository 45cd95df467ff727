"""Log-in and permissions against the database (Django's ModelBackend),
with a user's permissions read in one statement."""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection


class PermissionsBackend(ModelBackend):
    """ModelBackend, except that a user's permissions, their own and their
    groups', come in one statement written once, where ModelBackend builds
    and compiles two queries through the ORM. Every page asks (its view's
    permission, the menu, the rows' actions), once per request
    (benchmarks/README.md, a page's fixed costs)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(_permissions_sql(), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
        return user_obj._perm_cache


@cache
def _permissions_sql() -> str:
    """What ModelBackend's two queries ask, as one: the permissions granted to
    the user or to a group of the user's, as (app label, codename)."""
    user = get_user_model()
    quote = connection.ops.quote_name
    permission, content_type = Permission._meta, ContentType._meta
    own, groups = user.user_permissions.through._meta, user.groups.through._meta
    group_permissions = user.groups.field.related_model.permissions.through._meta
    user_column = quote(user.user_permissions.field.m2m_column_name())
    own_permission = quote(user.user_permissions.field.m2m_reverse_name())
    group_user = quote(user.groups.field.m2m_column_name())
    group_column = quote(user.groups.field.m2m_reverse_name())
    group_field = user.groups.field.related_model.permissions.field
    return (
        f"SELECT ct.{quote('app_label')}, p.{quote('codename')} "
        f"FROM {quote(permission.db_table)} p JOIN {quote(content_type.db_table)} ct ON ct.{quote('id')} = p.{quote('content_type_id')} "
        f"WHERE p.{quote('id')} IN ("
        f"SELECT {own_permission} FROM {quote(own.db_table)} WHERE {user_column} = %s "
        f"UNION SELECT gp.{quote(group_field.m2m_reverse_name())} FROM {quote(group_permissions.db_table)} gp "
        f"JOIN {quote(groups.db_table)} ug ON ug.{group_column} = gp.{quote(group_field.m2m_column_name())} "
        f"WHERE ug.{group_user} = %s)"
    )
