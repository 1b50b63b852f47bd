"""Changes to the taxonomy (system administrators only; the admin site uses its own forms).

Like every service: check the role, lock the row, validate, write.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed
from gridgov.core.text import clean_text
from gridgov.org.permissions import require

from .models import Category

# field -> (max length or None, single line)
_TEXT_FIELDS = {
    "code": (10, True),
    "name": (50, True),
    "accept_criteria": (None, False),
    "close_criteria": (None, False),
    "keywords": (None, False),
}
_REQUIRED = {"code", "name"}


def create_category(actor, **values):
    """A new 大类, or a 小类 when `parent` is given (its kind defaults to the parent's)."""
    require(actor, "category.change")
    values = _cleaned(values)
    if values.get("parent") is not None:
        values.setdefault("kind", values["parent"].kind)
    category = Category(**values)
    with transaction.atomic():
        _validate(category)
        category.save()
    return category


def update_category(category, actor, **changes):
    """Change the given fields of `category` (a Category or its pk)."""
    require(actor, "category.change")
    changes = _cleaned(changes)
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=getattr(category, "pk", category))
        for field, value in changes.items():
            setattr(category, field, value)
        _validate(category)
        category.save()
    return category


def _cleaned(values):
    cleaned = dict(values)
    for field, (max_length, single_line) in _TEXT_FIELDS.items():
        if field in cleaned:
            cleaned[field] = clean_text(
                cleaned[field], field, max_length=max_length, required=field in _REQUIRED, multiline=not single_line
            )
    if "keywords" in cleaned:
        cleaned["keywords"] = normalize_keywords(cleaned["keywords"])
    return cleaned


def normalize_keywords(text):
    """'垃圾， 渣土,,垃圾' -> '垃圾,渣土': one comma-separated list without blanks or repeats."""
    words = [word.strip() for word in text.replace("，", ",").replace("、", ",").split(",")]
    return ",".join(dict.fromkeys(word for word in words if word))


def _validate(category):
    """Model rules (code prefix, kind, uniqueness) as a ValidationFailed naming the fields."""
    clash = Category.objects.filter(kind=category.kind, code=category.code).exclude(pk=category.pk)
    if clash.exists():
        raise ValidationFailed.field("code", _("Another class of this kind has this code."), code="duplicate")
    try:
        category.full_clean()
    except DjangoValidationError as error:
        fields = error.message_dict
        first = next(iter(fields.values()))[0]
        raise ValidationFailed(first, fields=fields) from None
