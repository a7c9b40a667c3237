from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0001_initial"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="agreementrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "queued"), ("trigger", "auto")),
                fields=("project", "kind"),
                name="run_one_pending_auto",
            ),
        ),
    ]
