"""Sign-in, sign-out and personal API tokens.

No app namespace: settings name the sign-in page plainly ("login"), as Django's auth views do.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from kehu.accounts import views
from kehu.accounts.forms import LoginForm

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm,
                                                redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke, name="api_token_revoke"),
]
