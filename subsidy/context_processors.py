from django.conf import settings


def site(request):
    return {"SITE_TITLE": "求学圆梦", "SITE_SUBTITLE": "职工学历教育补助", "DEBUG": settings.DEBUG}
