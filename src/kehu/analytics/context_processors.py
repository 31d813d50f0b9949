from kehu.analytics.selectors import may_see_dashboard


def value_menu(request):
    user = getattr(request, "user", None)
    return {"nav_value": bool(user is not None and may_see_dashboard(user))}
