"""kehu (客户): customer relationship management built around customer value."""

__version__ = "0.1.0"
