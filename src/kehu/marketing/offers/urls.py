from django.urls import path

from kehu.marketing.offers import views

urlpatterns = [
    path("marketing/offers/", views.offer_lists, name="offers"),
    path("marketing/offers/build/", views.offer_build_due, name="offers_build_due"),
    path("marketing/offers/email/", views.offers_email_due, name="offers_email_due"),
    path("marketing/offers/settings/", views.offer_settings, name="offer_settings"),
    path("marketing/offers/tiers/new/", views.coupon_tier, name="coupon_tier_create"),
    path("marketing/offers/tiers/<int:tier_pk>/", views.coupon_tier, name="coupon_tier"),
    path("customers/<int:pk>/offers/build/", views.offer_build, name="offer_build"),
    path("customers/<int:pk>/offers/print/", views.offer_print, name="offer_print"),
    path("customers/<int:pk>/offers/export/", views.offer_export, name="offer_export"),
    path("customers/<int:pk>/offers/email/", views.offer_email, name="offer_email"),
    path("customers/<int:pk>/coupons/redeem/", views.coupon_redeem, name="coupon_redeem"),
]
