"""A commit SHA is the full 40 characters: a prefix could name another commit (issue 17)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('releases', '0010_change_created_by'),
    ]

    operations = [
        migrations.AlterField(
            model_name='release',
            name='sha',
            field=models.CharField(blank=True, help_text='The commit this release ships; a new SHA voids the approvals given on the old one.', max_length=40, validators=[django.core.validators.RegexValidator('^[0-9a-f]{40}$', 'A commit SHA is the full 40 hexadecimal characters (a short prefix could name another commit).')], verbose_name='commit SHA'),
        ),
        migrations.AlterField(
            model_name='story',
            name='head_sha',
            field=models.CharField(blank=True, max_length=40, validators=[django.core.validators.RegexValidator('^[0-9a-f]{40}$', 'A commit SHA is the full 40 hexadecimal characters (a short prefix could name another commit).')], verbose_name='head commit'),
        ),
    ]
