"""The defaults a firm starts from: unit costs of activities (in the firm's currency) and
which segment moves become tasks."""

from decimal import Decimal

from django.db import migrations

UNIT_COSTS = {"note": "0", "call": "5", "email": "1", "task": "10", "visit": "80",
              "meeting": "120"}
TASKS = {"invest": True, "develop": True, "maintain": False, "minimise": False,
         "protect": True, "nurture": False, "control": True, "phase_out": False,
         "at_risk": True}


def seed(apps, schema_editor):
    ActivityCost = apps.get_model("analytics", "ActivityCost")
    SegmentAction = apps.get_model("analytics", "SegmentAction")
    for kind, cost in UNIT_COSTS.items():
        ActivityCost.objects.get_or_create(kind=kind, defaults={"unit_cost": Decimal(cost)})
    for segment, on in TASKS.items():
        SegmentAction.objects.get_or_create(segment=segment, defaults={"create_task": on})


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
