"""Tasks used to be activities of kind "task" on the timeline; they move here, keeping who
they were for, when they were due, whether and when they were done, and their rule."""

from django.db import migrations


def move(apps, schema_editor):
    db = schema_editor.connection.alias
    Activity = apps.get_model("sales", "Activity")
    Task = apps.get_model("tasks", "Task")
    old = Activity.objects.using(db).filter(kind="task")
    Task.objects.using(db).bulk_create([
        Task(customer_id=a.customer_id, title=a.subject[:200], detail=a.body,
             assignee_id=a.assigned_to_id, due_on=a.due_on,
             status="done" if a.done_at else "open", origin=a.origin,
             created_by_id=a.author_id, closed_at=a.done_at, closed_by_id=a.done_by_id,
             created_at=a.created_at, updated_at=a.updated_at)
        for a in old.iterator(chunk_size=5000)], batch_size=5000)
    old.delete()
    # A task was never a cost of serving the customer: its unit cost goes with it.
    apps.get_model("analytics", "ActivityCost").objects.using(db).filter(kind="task").delete()


def back(apps, schema_editor):
    db = schema_editor.connection.alias
    Activity = apps.get_model("sales", "Activity")
    Task = apps.get_model("tasks", "Task")
    Activity.objects.using(db).bulk_create([
        Activity(customer_id=t.customer_id, kind="task", subject=t.title, body=t.detail,
                 occurred_at=t.created_at, author_id=t.created_by_id,
                 assigned_to_id=t.assignee_id, due_on=t.due_on, done_at=t.closed_at,
                 done_by_id=t.closed_by_id, origin=t.origin)
        for t in Task.objects.using(db).iterator(chunk_size=5000)], batch_size=5000)
    Task.objects.using(db).all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0001_initial"),
        ("sales", "0002_activity_tasks"),
        ("analytics", "0003_mbgnbd_choice"),
    ]

    operations = [migrations.RunPython(move, back)]
