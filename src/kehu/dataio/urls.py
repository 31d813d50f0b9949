from django.urls import path

from kehu.dataio.exports import views as export_views
from kehu.dataio.imports import views as import_views
from kehu.dataio.privacy import views as privacy_views
from kehu.dataio.quality import views as quality_views

app_name = "dataio"

urlpatterns = [
    path("import/", import_views.import_start, name="import"),
    path("import/<uuid:upload_id>/columns/", import_views.import_columns, name="import_columns"),
    path("import/<uuid:upload_id>/preview/", import_views.import_preview, name="import_preview"),
    path("import/<uuid:upload_id>/run/", import_views.import_run, name="import_run"),
    path("import/<uuid:upload_id>/", import_views.import_status, name="import_status"),
    path("import/batches/", import_views.batch_list, name="batches"),
    path("import/batches/<int:batch_id>/", import_views.batch_detail, name="batch"),
    path("import/batches/<int:batch_id>/undo/", import_views.batch_undo, name="batch_undo"),
    path("export/", export_views.export_page, name="export"),
    path("export/download/", export_views.export_download, name="export_download"),
    path("quality/", quality_views.quality, name="quality"),
    path("quality/run/<str:what>/", quality_views.quality_run, name="quality_run"),
    path("duplicates/", quality_views.duplicates, name="duplicates"),
    path("duplicates/<str:kind>/<int:pair_id>/", quality_views.duplicate_pair,
         name="duplicate_pair"),
    path("duplicates/<str:kind>/<int:pair_id>/dismiss/", quality_views.duplicate_dismiss,
         name="duplicate_dismiss"),
    path("privacy/", privacy_views.privacy_search, name="privacy"),
    path("privacy/customers/<int:pk>/", privacy_views.privacy_customer,
         name="privacy_customer"),
    path("privacy/customers/<int:pk>/export/", privacy_views.privacy_customer_export,
         name="privacy_customer_export"),
    path("privacy/customers/<int:pk>/erase/", privacy_views.privacy_customer_erase,
         name="privacy_customer_erase"),
    path("privacy/contacts/<int:contact_pk>/export/", privacy_views.privacy_contact_export,
         name="privacy_contact_export"),
    path("privacy/contacts/<int:contact_pk>/erase/", privacy_views.privacy_contact_erase,
         name="privacy_contact_erase"),
]
