import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "x")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


ROSTER_HEADER = "序号,姓名,手机号,邮箱,所属工会,审核工会名称\n"


@pytest.fixture
def roster_file(tmp_path):
    """Writes a roster CSV (attachment 4's columns) and returns its path."""

    def write(*rows, name="roster.csv"):
        path = tmp_path / name
        path.write_text(ROSTER_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
        return path

    return write
