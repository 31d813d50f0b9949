"""What the knowledge base hooks into when the service app starts."""

from __future__ import annotations

from django.db.models.signals import post_migrate


def _ensure_search_index(sender, using, **kwargs):
    from django.db import connections

    from kehu.service.knowledge import search_index

    # post_migrate also fires after a migrate that stopped short of the articles' table:
    # install looks for the table first.
    search_index.install(connections[using])


def register(app_config) -> None:
    post_migrate.connect(_ensure_search_index, sender=app_config,
                         dispatch_uid="kehu.service.knowledge.search_index")
