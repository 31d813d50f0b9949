import pytest
from django import forms

from kehu.core.widgets import QuickSelect

CHOICES = [("", "All"), (1, 'a<b & "c"'), (2, "王伟"), ("Group", [(3, "x"), (4, "y")])]


@pytest.mark.parametrize("value", ["", 2, "4", None, "nothing"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_owner", "required": True, "disabled": False,
                                          "class": 'a"b'}])
def test_the_quick_select_writes_the_same_html_as_djangos(value, attrs):
    django_html = forms.Select(choices=CHOICES).render("owner", value, attrs)
    assert QuickSelect(choices=CHOICES).render("owner", value, attrs) == django_html


def test_the_list_filter_marks_the_chosen_owner(client, users):
    client.force_login(users["admin"])
    owner = users["sales1"]
    html = client.get("/customers/", {"owner": owner.pk}).content.decode()
    assert f'<option value="{owner.pk}" selected>' in html
