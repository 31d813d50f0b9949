"""Exporting the customer and transaction lists to CSV and XLSX (services) from the web
(forms, views) and the command line (management/commands/export.py)."""
