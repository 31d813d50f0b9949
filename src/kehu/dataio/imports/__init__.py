"""Importing files: reading them (readers), matching their columns to fields (mapping),
turning cells into values (cleaning), checking rows of each kind (importers), writing all
or nothing (writing), the services that import, save mappings and undo (services), the
preview and the web wizard (preview, wizard, forms, views) and the batches (selectors)."""
