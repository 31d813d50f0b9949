from django.db import migrations

# name_en, name_zh, order, probability, kind
DEFAULT_STAGES = [
    ("Qualification", "初步接洽", 10, 10, "open"),
    ("Needs analysis", "需求分析", 20, 25, "open"),
    ("Proposal", "方案报价", 30, 50, "open"),
    ("Negotiation", "商务谈判", 40, 75, "open"),
    ("Won", "赢单", 90, 100, "won"),
    ("Lost", "输单", 100, 0, "lost"),
]


def create(apps, schema_editor):
    stage = apps.get_model("sales", "Stage")
    if stage.objects.exists():
        return
    stage.objects.bulk_create([stage(name_en=en, name_zh=zh, order=order, probability=p,
                                     kind=kind)
                               for en, zh, order, p, kind in DEFAULT_STAGES])
    apps.get_model("sales", "PipelineSettings").objects.get_or_create(pk=1)


def remove(apps, schema_editor):
    apps.get_model("sales", "Stage").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("sales", "0009_pipeline"),
    ]

    operations = [migrations.RunPython(create, remove)]
