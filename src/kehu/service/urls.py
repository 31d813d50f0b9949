from django.urls import include, path

app_name = "service"

# Each part adds its pages with one line: path("", include("kehu.service.<part>.urls")).
urlpatterns: list = [
    path("", include("kehu.service.chain.urls")),
    path("", include("kehu.service.surveys.urls")),
    path("", include("kehu.service.sla.urls")),
    path("", include("kehu.service.tickets.urls")),
    path("", include("kehu.service.knowledge.urls")),
]
