from django.urls import path

from kehu.loans import views

app_name = "loans"

urlpatterns = [
    path("", views.my_loans, name="mine"),
    path("request/", views.request_loan, name="request"),
    path("decide/", views.to_decide, name="decide"),
    path("register/", views.register, name="register"),
    path("register.csv", views.register_csv, name="register_csv"),
    path("<int:loan_pk>/", views.loan_detail, name="detail"),
    path("<int:loan_pk>/approve/", views.approve, name="approve"),
    path("<int:loan_pk>/refuse/", views.refuse, name="refuse"),
    path("<int:loan_pk>/return/", views.end, name="return"),
]
