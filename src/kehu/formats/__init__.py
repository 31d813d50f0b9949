"""kehu's own locale formats, where Django's do not suit a CRM (see FORMAT_MODULE_PATH)."""
