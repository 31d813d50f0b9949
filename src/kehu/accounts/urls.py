"""Sign-in, sign-out, the password, personal API tokens and (for administrators) the sign-in
locks.

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
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("locks/", views.lockouts, name="sign_in_locks"),
    path("tokens/", views.tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke, name="api_token_revoke"),
]
