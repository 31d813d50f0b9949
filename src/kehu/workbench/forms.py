"""The workbench's forms: closing a task with a note, and a manager's bulk reassignment."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core import policy


class CloseTaskForm(forms.Form):
    action = forms.ChoiceField(choices=[("done", _("Mark done")), ("dismiss", _("Dismiss"))],
                               widget=forms.HiddenInput,
                               error_messages={"required": _("Choose “Mark done” or "
                                                             "“Dismiss”.")})
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.TextInput(attrs={
                               "placeholder": _("Note (needed to dismiss)")}))

    def __init__(self, *args, task_pk: int, **kwargs):
        kwargs.setdefault("auto_id", f"task-{task_pk}-%s")
        super().__init__(*args, **kwargs)


class ReassignForm(forms.Form):
    tasks = forms.ModelMultipleChoiceField(
        label=_("Tasks"), queryset=None,
        error_messages={"required": _("Select the tasks to reassign."),
                        "invalid_choice": _("A task selected is no longer open or not "
                                            "yours to reassign: reload the page."),
                        "invalid_pk_value": _("A task selected is no longer open or not "
                                              "yours to reassign: reload the page.")})
    assignee = forms.ModelChoiceField(label=_("Give them to"), queryset=None,
                                      empty_label=_("Choose a person"))

    def __init__(self, *args, user, tasks, **kwargs):
        kwargs.setdefault("auto_id", "reassign-%s")
        super().__init__(*args, **kwargs)
        self.fields["tasks"].queryset = tasks
        self.fields["assignee"].queryset = policy.assignable_owners(user).order_by("username")
