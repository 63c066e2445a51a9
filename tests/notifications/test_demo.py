import pytest

from notifications import demo
from notifications.models import Inquiry

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent(tree):
    from unions.models import Union

    Union.objects.filter(pk=tree.yuexiu.pk).update(hotline="")
    demo.seed()
    demo.seed()
    tree.yuexiu.refresh_from_db()
    assert tree.yuexiu.hotline == "87370160"
    assert Inquiry.objects.count() == 3
