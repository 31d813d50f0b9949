from django.contrib import admin

from kehu.customers.models import Product


# Customers, contacts and transactions are edited only through kehu's own pages and API,
# which validate, version and audit every change; the admin keeps the product catalogue.
@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit_price", "unit_cost", "active")
    search_fields = ("code", "name")
    list_filter = ("active",)
