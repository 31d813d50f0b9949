"""API tokens of users who are inactive now end for good: until this release, reactivating
a user gave them back every token they had. From now on User.save revokes them when the
user is deactivated; this revokes those of users deactivated before."""

from django.db import migrations
from django.utils import timezone


def revoke_tokens_of_inactive_users(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    live = ApiToken.objects.filter(user__is_active=False, revoked_at__isnull=True)
    tokens = list(live.select_related("user"))
    if not tokens:
        return
    live.update(revoked_at=timezone.now())
    AuditEvent.objects.bulk_create([
        AuditEvent(action="token.revoke_inactive", object_type="accounts.apitoken",
                   object_id=str(t.pk), detail={"name": t.name, "user": t.user.username},
                   via="cli")
        for t in tokens])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_user_privacy_officer"),
        ("audit", "0003_redaction"),
    ]

    operations = [
        migrations.RunPython(revoke_tokens_of_inactive_users, migrations.RunPython.noop),
    ]
