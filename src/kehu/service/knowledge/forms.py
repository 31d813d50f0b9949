"""The article form of the knowledge base."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.service.knowledge.models import Article
from kehu.service.knowledge.services import ARTICLE_FIELDS

_TEXT = {"rows": 4}


class ArticleForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tags = forms.CharField(label=_("Tags"), required=False, max_length=500,
                           help_text=_("Separated by commas, e.g. 打印机, network"))

    class Meta:
        model = Article
        fields = ("title", "language", "problem", "cause", "solution")
        widgets = {f: forms.Textarea(attrs=_TEXT) for f in ("problem", "cause", "solution")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["version"]
        else:
            self.fields["version"].initial = self.instance.version
            self.fields["tags"].initial = ", ".join(t.name for t in self.instance.tags.all())

    def service_data(self) -> dict:
        return {f: self.cleaned_data[f] for f in ARTICLE_FIELDS if f in self.cleaned_data}


class ArticleFromTicketForm(ArticleForm):
    """The article a solved ticket suggests, for its writer to edit before it is saved;
    the ticket rides along to be linked as the one it was written from."""

    ticket = forms.IntegerField(widget=forms.HiddenInput)
