"""Personal data requests: whom a privacy officer may act on (selectors), exporting and
erasing a person (services), and the pages (views)."""
