from django.urls import include, path

app_name = "marketing"

# Each part adds its pages with one line: path("", include("kehu.marketing.<part>.urls")).
urlpatterns: list = [
    path("", include("kehu.marketing.consent.urls")),
    path("", include("kehu.marketing.referrals.urls")),
    path("", include("kehu.marketing.campaigns.urls")),
    path("", include("kehu.marketing.offers.urls")),
]
