app_name = "marketing"

# Each part adds its pages with one line: path("", include("kehu.marketing.<part>.urls")).
urlpatterns: list = []
