from django.urls import path

from kehu.marketing.referrals import views

urlpatterns = [
    path("marketing/referrals/", views.referrals, name="referrals"),
    path("customers/<int:pk>/referral-code/", views.issue_code, name="referral_code"),
    path("customers/<int:pk>/referral-by-code/", views.by_code, name="referral_by_code"),
    path("customers/<int:pk>/referral-reward/", views.reward, name="referral_reward"),
]
