"""The union tree: subtree queries by materialised path, the district of each union, moves."""

import pytest

from tests.factories import UnionFactory
from unions.models import Union


@pytest.mark.django_db
def test_subtree_contains_the_union_and_all_descendants_only(tree):
    nested = UnionFactory(name="越秀区甲公司第一分工会", parent=tree.a1)
    names = set(Union.objects.subtree_of(tree.yuexiu).values_list("name", flat=True))
    assert names == {"越秀区总工会", "越秀区甲公司工会", "越秀区乙公司工会", nested.name}
    without_self = Union.objects.subtree_of(tree.yuexiu, include_self=False)
    assert tree.yuexiu not in without_self and nested in without_self


@pytest.mark.django_db
def test_subtree_of_several_unions_is_their_union(tree):
    qs = Union.objects.subtree_of([tree.haizhu, tree.industry])
    assert set(qs) == {tree.haizhu, tree.b1, tree.industry, tree.i1}


@pytest.mark.django_db
def test_subtree_of_an_empty_list_is_empty(tree):
    assert not Union.objects.subtree_of([]).exists()


@pytest.mark.django_db
def test_district_is_the_level_two_ancestor_at_any_depth(tree):
    nested = UnionFactory(name="嵌套分工会", parent=tree.a1)
    deeper = UnionFactory(name="嵌套分工会小组", parent=nested)
    assert deeper.district == tree.yuexiu
    assert deeper.depth == 4
    assert tree.yuexiu.district == tree.yuexiu
    assert tree.city.district is None
    assert [u.name for u in deeper.ancestors()] == [
        "广州市总工会",
        "越秀区总工会",
        "越秀区甲公司工会",
        "嵌套分工会",
        "嵌套分工会小组",
    ]


@pytest.mark.django_db
def test_moving_a_union_moves_its_whole_subtree(tree):
    nested = UnionFactory(name="甲公司分工会", parent=tree.a1)
    tree.a1.parent = tree.haizhu
    tree.a1.save()
    nested.refresh_from_db()
    assert nested.path.startswith(tree.haizhu.path)
    assert nested.district == tree.haizhu
    assert set(Union.objects.subtree_of(tree.haizhu)) == {tree.haizhu, tree.b1, tree.a1, nested}
    assert nested not in Union.objects.subtree_of(tree.yuexiu)
    assert nested.is_within(tree.haizhu) and not nested.is_within(tree.yuexiu)


@pytest.mark.django_db
def test_a_union_cannot_move_under_its_own_descendant(tree):
    tree.yuexiu.parent = tree.a1
    with pytest.raises(ValueError):
        tree.yuexiu.save()
    tree.yuexiu.refresh_from_db()
    assert tree.yuexiu.parent == tree.city


@pytest.mark.django_db
def test_admin_form_refuses_a_cycle_with_a_chinese_message(tree):
    from django.core.exceptions import ValidationError

    tree.yuexiu.parent = tree.a1
    with pytest.raises(ValidationError) as exc:
        tree.yuexiu.full_clean()
    assert "下级工会" in str(exc.value.message_dict["parent"])


@pytest.mark.django_db
def test_reviewer_scope_grassroots_is_exact_district_is_subtree(tree, reviewers):
    assert set(reviewers.grassroots_a.scope_unions()) == {tree.a1}
    assert set(reviewers.district_yuexiu.scope_unions()) == {tree.yuexiu, tree.a1, tree.a2}
    assert reviewers.city.scope_unions().count() == Union.objects.count()
