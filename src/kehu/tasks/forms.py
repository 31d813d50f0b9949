"""Input forms for tasks on the customer card."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core import policy
from kehu.tasks.models import TaskKind, TaskPriority


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_on = forms.DateField(label=_("Due on"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    priority = forms.ChoiceField(label=_("Priority"), choices=TaskPriority.choices,
                                 initial=TaskPriority.NORMAL)
    kind = forms.ChoiceField(label=_("Kind"), choices=TaskKind.choices, initial=TaskKind.TODO,
                             required=False,
                             help_text=_("A visit shows on the workbench's week."))
    assignee = forms.ModelChoiceField(label=_("For"), required=False, queryset=None,
                                      help_text=_("You, if left empty."))
    detail = forms.CharField(label=_("Details"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = policy.assignable_owners(user)


class CloseForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
