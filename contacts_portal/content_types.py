"""Moving a model to another app without touching its table: its content
type moves with it, so the permissions granted on it stay granted."""


def move_content_type(source_app: str, target_app: str, model: str):
    def forwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        # A content type the new app made meanwhile (post_migrate) gives way
        # to the old one, which carries the grants.
        if ContentType.objects.filter(app_label=source_app, model=model).exists():
            ContentType.objects.filter(app_label=target_app, model=model).delete()
            ContentType.objects.filter(app_label=source_app, model=model).update(app_label=target_app)
            ContentType.objects.clear_cache()

    def backwards(apps, schema_editor):
        forwards_back = move_content_type(target_app, source_app, model)[0]
        forwards_back(apps, schema_editor)

    return forwards, backwards
